package io.convllava.vision.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageDecoderTest {
    private static final int W = 7;
    private static final int H = 5;

    @Test
    void greyPngIsReplicatedToRgb() throws IOException {
        BufferedImage grey = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_GRAY);
        fillSamples(grey, (x, y, band) -> x * 30 + y * 7);
        RgbImage rgb = ImageDecoder.decode(encode(grey, "png"));
        // raw grey levels, not Java's linear-grey to sRGB conversion
        assertPixels(rgb, (x, y, c) -> x * 30 + y * 7);
    }

    @Test
    void greyAlphaPngDropsAlpha() throws IOException {
        ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), true, false,
                Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
        BufferedImage la = new BufferedImage(cm, cm.createCompatibleWritableRaster(W, H), false, null);
        fillSamples(la, (x, y, band) -> band == 0 ? 200 - x * 20 - y : x * 40);
        assertPixels(ImageDecoder.decode(encode(la, "png")), (x, y, c) -> 200 - x * 20 - y);
    }

    @Test
    void palettePngIsLookedUp() throws IOException {
        BufferedImage indexed = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_INDEXED, palette());
        fillSamples(indexed, (x, y, band) -> (x + y) % 4);
        assertPixels(ImageDecoder.decode(encode(indexed, "png")), (x, y, c) -> PALETTE[c][(x + y) % 4]);
    }

    /** PIL's convert("RGB") drops alpha without compositing: fully transparent pixels keep their colour. */
    @Test
    void rgbaPngDropsAlphaWithoutCompositing() throws IOException {
        BufferedImage argb = new BufferedImage(W, H, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                int alpha = x % 2 == 0 ? 0 : 128;
                argb.setRGB(x, y, alpha << 24 | (10 * x) << 16 | (20 * y) << 8 | 99);
            }
        }
        assertPixels(ImageDecoder.decode(encode(argb, "png")), (x, y, c) -> new int[] {10 * x, 20 * y, 99}[c]);
    }

    /** PIL opens a 16-bit grey PNG as "I;16" and its RGB conversion saturates at 255 (no rescaling). */
    @Test
    void sixteenBitGreyPngSaturatesLikePil() throws IOException {
        BufferedImage grey16 = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
        int[] values = {100, 255, 256, 65535};
        fillSamples(grey16, (x, y, band) -> values[x]);
        assertPixels(ImageDecoder.decode(encode(grey16, "png")), (x, y, c) -> Math.min(values[x], 255));
    }

    /** PIL unpacks 16-bit RGB PNGs ("RGB;16B") by keeping the high byte. */
    @Test
    void sixteenBitRgbPngKeepsTheHighByte() throws IOException {
        ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false,
                Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        BufferedImage rgb16 = new BufferedImage(cm, cm.createCompatibleWritableRaster(W, H), false, null);
        fillSamples(rgb16, (x, y, band) -> x * 9000 + y * 300 + band * 77);
        assertPixels(ImageDecoder.decode(encode(rgb16, "png")), (x, y, c) -> (x * 9000 + y * 300 + c * 77) >> 8);
    }

    @Test
    void bmpDecodesExactly() throws IOException {
        BufferedImage bgr = new BufferedImage(W, H, BufferedImage.TYPE_3BYTE_BGR);
        fillSamples(bgr, (x, y, band) -> (x * 37 + y * 11 + band * 80) & 255);
        assertPixels(ImageDecoder.decode(encode(bgr, "bmp")), (x, y, c) -> (x * 37 + y * 11 + c * 80) & 255);
    }

    @Test
    void gifDecodesThePalette() throws IOException {
        BufferedImage indexed = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_INDEXED, palette());
        fillSamples(indexed, (x, y, band) -> (x * y) % 4);
        assertPixels(ImageDecoder.decode(encode(indexed, "gif")), (x, y, c) -> PALETTE[c][(x * y) % 4]);
    }

    @Test
    void animatedGifGivesItsFirstFrame() throws IOException {
        BufferedImage first = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_INDEXED, palette());
        fillSamples(first, (x, y, band) -> 1);
        BufferedImage second = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_INDEXED, palette());
        fillSamples(second, (x, y, band) -> 2);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            writer.prepareWriteSequence(null);
            writer.writeToSequence(new IIOImage(first, null, null), null);
            writer.writeToSequence(new IIOImage(second, null, null), null);
            writer.endWriteSequence();
        } finally {
            writer.dispose();
        }
        assertPixels(ImageDecoder.decode(out.toByteArray()), (x, y, c) -> PALETTE[c][1]);
    }

    /** JPEG is lossy and Java's IDCT differs from libjpeg's, so a flat colour is checked to within a few levels. */
    @Test
    void jpegDecodesCloseToTheSource() throws IOException {
        BufferedImage flat = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                flat.setRGB(x, y, 200 << 16 | 100 << 8 | 50);
            }
        }
        RgbImage rgb = ImageDecoder.decode(encode(flat, "jpeg"));
        assertEquals(16, rgb.width());
        assertEquals(16, rgb.height());
        int[] expected = {200, 100, 50};
        for (int i = 0; i < rgb.rgb().length; i++) {
            int v = rgb.rgb()[i] & 0xFF;
            assertTrue(Math.abs(v - expected[i % 3]) <= 3, "sample " + i + " is " + v);
        }
    }

    @Test
    void greyJpegIsReplicated() throws IOException {
        BufferedImage grey = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        fillSamples(grey, (x, y, band) -> 90);
        RgbImage rgb = ImageDecoder.decode(encode(grey, "jpeg"));
        for (int i = 0; i < rgb.rgb().length; i++) {
            assertTrue(Math.abs((rgb.rgb()[i] & 0xFF) - 90) <= 1, "sample " + i);
        }
    }

    /**
     * Files made with Pillow 9.4; the checksum is of Pillow's {@code Image.open(f).convert("RGB").tobytes()}:
     * an Adobe CMYK JPEG, and GIFs whose 3x2 first frame sits at (2, 1) on a 6x4 screen (PIL fills the rest with
     * index 0, or with the frame's transparent index).
     */
    @ParameterizedTest
    @CsvSource({
        "cmyk-40x30.jpg, 40, 30, f0b0678f",
        "gif-frame-offset.gif, 6, 4, c3014017",
        "gif-frame-offset-transparent.gif, 6, 4, b50dd1d",
    })
    void decodesLikePil(String resource, int width, int height, String pillowCrc) throws IOException {
        byte[] bytes;
        try (InputStream in = ImageDecoderTest.class.getResourceAsStream(resource)) {
            bytes = in.readAllBytes();
        }
        RgbImage rgb = ImageDecoder.decode(bytes);
        assertEquals(width, rgb.width());
        assertEquals(height, rgb.height());
        CRC32 crc = new CRC32();
        crc.update(rgb.rgb());
        assertEquals(pillowCrc, Long.toHexString(crc.getValue()), resource);
    }

    @Test
    void garbageBytesAreRejectedWithTheirSignature() {
        byte[] garbage = "hello, this is not an image".getBytes(StandardCharsets.US_ASCII);
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(garbage));
        assertTrue(e.getMessage().contains("unrecognised image format"), e.getMessage());
        assertTrue(e.getMessage().contains("0x68656c6c6f2c2074"), e.getMessage());
        assertTrue(e.getMessage().contains("PNG, JPEG, BMP or GIF"), e.getMessage());
    }

    @Test
    void emptyBytesAreRejected() {
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(new byte[0]));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    @Test
    void webpIsNamedAsUnsupported() {
        byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1);
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(webp));
        assertTrue(e.getMessage().contains("WebP is not supported"), e.getMessage());
    }

    @Test
    void truncatedPngIsRejected() throws IOException {
        BufferedImage bgr = new BufferedImage(64, 64, BufferedImage.TYPE_3BYTE_BGR);
        fillSamples(bgr, (x, y, band) -> (x * 31 + y * 17 + band * 50) & 255);
        byte[] png = encode(bgr, "png");
        // cuts inside the signature, the header and the pixel data (a PNG missing only its IEND chunk still decodes)
        for (int length : new int[] {5, 8, 20, png.length / 2, png.length - 40}) {
            byte[] cut = Arrays.copyOf(png, length);
            InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(cut),
                    "PNG cut to " + length + " bytes");
            assertTrue(e.getMessage().contains("PNG") || e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void truncatedJpegIsRejected() throws IOException {
        BufferedImage bgr = new BufferedImage(64, 64, BufferedImage.TYPE_3BYTE_BGR);
        fillSamples(bgr, (x, y, band) -> (x * 31 + y * 17 + band * 50) & 255);
        byte[] jpeg = encode(bgr, "jpeg");
        byte[] cut = Arrays.copyOf(jpeg, jpeg.length * 2 / 3);
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(cut));
        assertTrue(e.getMessage().contains("JPEG") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void imagesAboveThePixelLimitAreRefusedBeforeDecoding() throws IOException {
        byte[] png = encode(new BufferedImage(20, 30, BufferedImage.TYPE_BYTE_GRAY), "png");
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(png, 599));
        assertTrue(e.getMessage().contains("20x30 = 600 pixels") && e.getMessage().contains("limit of 599"),
                e.getMessage());
        assertEquals(20, ImageDecoder.decode(png, 600).width());
    }

    @Test
    void aLongThinImageIsRefusedByTheSquareItWouldBePaddedTo() throws IOException {
        byte[] png = encode(new BufferedImage(40, 3, BufferedImage.TYPE_BYTE_GRAY), "png");
        assertEquals(40, ImageDecoder.decode(png, 1599, false).width(), "120 pixels as it is");
        InvalidImageException e = assertThrows(InvalidImageException.class, () -> ImageDecoder.decode(png, 1599, true));
        assertTrue(e.getMessage().contains("padded to a square for the model it would be 40x40 = 1600 pixels, above"
                + " the limit of 1599"), e.getMessage());
        assertEquals(40, ImageDecoder.decode(png, 1600, true).width());
    }

    @Test
    void headersClaimingHugeImagesAreRefusedWithoutDecoding() {
        // 26000x2581 (a one-colour PNG of a few hundred KB once forced a 2 GB padded square) and 60000x60000
        for (int[] size : new int[][] {{26000, 2581}, {60000, 60000}, {Integer.MAX_VALUE, 1}}) {
            byte[] png = pngHeader(size[0], size[1]);
            InvalidImageException e = assertThrows(InvalidImageException.class,
                    () -> ImageDecoder.decode(png, ImageDecoder.DEFAULT_MAX_PIXELS, true));
            assertTrue(e.getMessage().contains(size[0] + "x" + size[1]) && e.getMessage().contains("above the limit"),
                    e.getMessage());
        }
    }

    /** A PNG signature and IHDR chunk (8-bit grey) claiming {@code width x height}, then IEND: no pixel data. */
    private static byte[] pngHeader(int width, int height) {
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        writeChunk(out, "IHDR", ihdr.array());
        writeChunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void writeChunk(java.io.ByteArrayOutputStream out, String type, byte[] data) {
        byte[] typeBytes = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    private static final int[][] PALETTE = {{255, 0, 12, 250}, {0, 128, 34, 240}, {0, 64, 56, 10}};

    private static IndexColorModel palette() {
        byte[][] p = new byte[3][4];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 4; i++) {
                p[c][i] = (byte) PALETTE[c][i];
            }
        }
        return new IndexColorModel(8, 4, p[0], p[1], p[2]);
    }

    private interface SampleFunction {
        int at(int x, int y, int band);
    }

    private static void fillSamples(BufferedImage image, SampleFunction f) {
        WritableRaster raster = image.getRaster();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                for (int b = 0; b < raster.getNumBands(); b++) {
                    raster.setSample(x, y, b, f.at(x, y, b));
                }
            }
        }
    }

    private static void assertPixels(RgbImage rgb, SampleFunction expected) {
        for (int y = 0; y < rgb.height(); y++) {
            for (int x = 0; x < rgb.width(); x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(expected.at(x, y, c), rgb.sample(x, y, c), "channel " + c + " at " + x + "," + y);
                }
            }
        }
    }

    private static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) {
            throw new IllegalStateException("ImageIO cannot write " + format + " for " + image);
        }
        return out.toByteArray();
    }
}
