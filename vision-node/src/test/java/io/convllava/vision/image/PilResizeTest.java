package io.convllava.vision.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import java.util.zip.CRC32;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PilResizeTest {

    @Test
    void unchangedSizeIsACopyOfTheSameBytes() {
        RgbImage in = pattern(37, 23);
        RgbImage out = PilResize.bicubic(in, 37, 23);
        assertEquals(37, out.width());
        assertEquals(23, out.height());
        assertArrayEquals(in.rgb(), out.rgb());
        assertNotSame(in.rgb(), out.rgb());
    }

    /**
     * 4x1 [0, 0, 255, 255] to 2x1: scale 2 widens the kernel to support 4, so output 0 (centre 1.0) weighs inputs
     * 0..3 by bicubic((j - 0.5) / 2) = 0.8671875, 0.8671875, 0.2265625, -0.0703125 (sum 1.890625), giving
     * 255 * (0.2265625 - 0.0703125) / 1.890625 = 21.07 -> 21; output 1 mirrors it: 234.
     */
    @Test
    void handComputedTwoToOneDownscale() {
        RgbImage in = new RgbImage(4, 1, new byte[] {0, 0, 0, 0, 0, 0, (byte) 255, (byte) 255, (byte) 255,
                (byte) 255, (byte) 255, (byte) 255});
        RgbImage out = PilResize.bicubic(in, 2, 1);
        assertArrayEquals(new byte[] {21, 21, 21, (byte) 234, (byte) 234, (byte) 234}, out.rgb());
    }

    @Test
    void constantImageStaysConstant() {
        RgbImage in = RgbImage.filled(50, 31, 122, 116, 104);
        RgbImage out = PilResize.bicubic(in, 17, 77);
        assertArrayEquals(RgbImage.filled(17, 77, 122, 116, 104).rgb(), out.rgb());
    }

    /**
     * CRC-32 of Pillow 9.4's {@code Image.resize((W, H), Image.BICUBIC).tobytes()} on the same synthetic pattern
     * (the resampling code is unchanged up to the Pillow 12 that made the fixtures): down, up, mixed, one pass only.
     */
    @ParameterizedTest
    @CsvSource({
        "37, 23, 16, 50, 4d032c54",
        "100, 80, 33, 33, 4528f739",
        "5, 5, 1, 1, 12caba4c",
        "7, 3, 7, 11, c090e094",
        "13, 4, 29, 4, 4752b300",
        "320, 200, 97, 61, f5bc108c",
        "4, 9, 400, 3, 41ec03fa",
    })
    void matchesPillowBitForBit(int w, int h, int outW, int outH, String pillowCrc) {
        RgbImage out = PilResize.bicubic(pattern(w, h), outW, outH);
        assertEquals(outW, out.width());
        assertEquals(outH, out.height());
        CRC32 crc = new CRC32();
        crc.update(out.rgb());
        assertEquals(pillowCrc, Long.toHexString(crc.getValue()), "resize " + w + "x" + h + " -> " + outW + "x" + outH);
    }

    /** A busy, reproducible test card; the Python used for the Pillow checksums builds the same bytes. */
    static RgbImage pattern(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        int i = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    rgb[i++] = (byte) (x * 7 + y * 13 + c * 101 + ((x * y) % 17) * 9 + ((x * x + 3 * y) % 5) * 40);
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }
}
