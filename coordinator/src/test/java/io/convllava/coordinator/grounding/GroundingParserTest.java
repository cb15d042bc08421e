package io.convllava.coordinator.grounding;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference RefCOCO evaluation's parsing and un-padding (evaluate_grounding.py), case by case. */
class GroundingParserTest {

    private static double[] pixels(BoundingBox b) {
        return new double[] {b.x1(), b.y1(), b.x2(), b.y2()};
    }

    @Test
    void squareImage() {
        BoundingBox b = GroundingParser.parse("[0.69, 0.40, 0.90, 0.66]", 256, 256, 0).orElseThrow();
        assertArrayEquals(new double[] {0.69 * 256, 0.40 * 256, 0.90 * 256, 0.66 * 256}, pixels(b), 1e-9);
        assertArrayEquals(new double[] {0.69, 0.40, 0.90, 0.66}, b.normalized());
    }

    @Test
    void wideImageLosesThePadAboveFromY() {
        // 320x200: padded to 320x320 with (320-200)//2 = 60 rows above
        BoundingBox b = GroundingParser.parse("[0.1, 0.5, 0.3, 0.75]", 320, 200, 0).orElseThrow();
        assertArrayEquals(new double[] {32, 160 - 60, 96, 240 - 60}, pixels(b), 1e-9);
    }

    @Test
    void tallImageLosesThePadLeftFromX() {
        // 181x300: (300-181)//2 = 59 columns left of the image
        BoundingBox b = GroundingParser.parse("answer: [0.5, 0.1, 0.6, 0.2]", 181, 300, 2).orElseThrow();
        assertArrayEquals(new double[] {150 - 59, 30, 180 - 59, 60}, pixels(b), 1e-9);
        assertEquals(2, b.imageIndex());
    }

    @Test
    void numbersSummingToFourOrMoreAreThousandths() {
        BoundingBox b = GroundingParser.parse("[[100, 200, 500, 900]]", 1000, 1000, 0).orElseThrow();
        assertArrayEquals(new double[] {100, 200, 500, 900}, pixels(b), 1e-9);
    }

    @Test
    void noBoxInOtherAnswers() {
        assertTrue(GroundingParser.parse("Three.", 256, 256, 0).isEmpty());
        assertTrue(GroundingParser.parse("[a, b, c, d]", 256, 256, 0).isEmpty());
    }

    @Test
    void iouOfBoxes() {
        BoundingBox a = new BoundingBox(0, 0, 10, 10, new double[4], 0);
        BoundingBox b = new BoundingBox(5, 0, 15, 10, new double[4], 0);
        assertEquals(50.0 / 150.0, a.iou(b), 1e-12);
    }
}
