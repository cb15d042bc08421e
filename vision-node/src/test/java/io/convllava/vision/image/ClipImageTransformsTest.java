package io.convllava.vision.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ClipImageTransformsTest {

    @Test
    void shortestEdgeKeepsTheAspectRatioTruncatingTheLongSide() {
        assertArrayEquals(new int[] {256, 409}, ClipImageTransforms.shortestEdgeSize(200, 320, 256)); // 409.6
        assertArrayEquals(new int[] {640, 384}, ClipImageTransforms.shortestEdgeSize(300, 180, 384));
        assertArrayEquals(new int[] {384, 384}, ClipImageTransforms.shortestEdgeSize(300, 300, 384));
    }

    @Test
    void centerCropTakesTheMiddleWindowRoundingTheOffsetDown() {
        RgbImage image = PilResizeTest.pattern(7, 4);
        RgbImage crop = ClipImageTransforms.centerCrop(image, 2, 4); // top (4-2)//2 = 1, left (7-4)//2 = 1
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 4; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(image.sample(x + 1, y + 1, c), crop.sample(x, y, c));
                }
            }
        }
    }

    /** HF pads a too-small side with zeros, centring the image with the offset rounded up: 3 rows in 6 start at 2. */
    @Test
    void centerCropLargerThanTheImagePadsWithBlack() {
        RgbImage image = RgbImage.filled(5, 3, 9, 9, 9);
        RgbImage crop = ClipImageTransforms.centerCrop(image, 6, 3); // rows: ceil(3 / 2) = 2 above; cols: start 1
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 3; x++) {
                assertEquals(y >= 2 && y < 5 ? 9 : 0, crop.sample(x, y, 0), "at " + x + "," + y);
            }
        }
    }
}
