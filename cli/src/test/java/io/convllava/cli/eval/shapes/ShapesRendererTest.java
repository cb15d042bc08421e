package io.convllava.cli.eval.shapes;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The renderer's pixel rules on hand-placed shapes, and the scene generator's ranges and reproducibility. */
class ShapesRendererTest {
    private static final int BACKGROUND = 0x646464;

    private static ShapesScene scene(int x0, int y0, int x1, int y1, SceneObject... objects) {
        return new ShapesScene(0, BACKGROUND, x0, y0, x1, y1, List.of(objects));
    }

    private static int painted(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                n += (image.getRGB(x, y) & 0xFFFFFF) == rgb ? 1 : 0;
            }
        }
        return n;
    }

    @Test
    void aPixelIsPaintedWhenItsCentreIsInsideEdgesIncluded() {
        // centre (10.5, 10.5), r = 2: pixel centres x + 0.5 at offsets -2..2 from it
        BufferedImage square = ShapesRenderer.render(scene(0, 0, 256, 256,
                new SceneObject(ShapeColour.RED, ShapeKind.SQUARE, 10.5f, 10.5f, 2f)));
        assertEquals(25, painted(square, ShapeColour.RED.rgb()), "a 5 x 5 square");
        assertEquals(ShapeColour.RED.rgb(), square.getRGB(8, 8) & 0xFFFFFF);
        assertEquals(BACKGROUND, square.getRGB(7, 8) & 0xFFFFFF);
        // the disc of radius 2: offsets (dx, dy) with dx^2 + dy^2 <= 4: 13 of them
        BufferedImage disc = ShapesRenderer.render(scene(0, 0, 256, 256,
                new SceneObject(ShapeColour.BLUE, ShapeKind.CIRCLE, 10.5f, 10.5f, 2f)));
        assertEquals(13, painted(disc, ShapeColour.BLUE.rgb()));
        // the triangle: rows dy = -2..2 hold |dx| <= (dy + 2) / 2: 1 + 1 + 3 + 3 + 5 pixels
        BufferedImage triangle = ShapesRenderer.render(scene(0, 0, 256, 256,
                new SceneObject(ShapeColour.GREEN, ShapeKind.TRIANGLE, 10.5f, 10.5f, 2f)));
        assertEquals(13, painted(triangle, ShapeColour.GREEN.rgb()));
        assertEquals(ShapeColour.GREEN.rgb(), triangle.getRGB(10, 8) & 0xFFFFFF, "the apex, at the top");
        assertEquals(ShapeColour.GREEN.rgb(), triangle.getRGB(8, 12) & 0xFFFFFF, "a corner of the base");
    }

    @Test
    void laterShapesCoverEarlierOnesAndThePaddingCoversAll() {
        ShapesScene letterboxed = scene(0, 100, 256, 156,
                new SceneObject(ShapeColour.RED, ShapeKind.SQUARE, 128.5f, 100.5f, 2f),
                new SceneObject(ShapeColour.WHITE, ShapeKind.SQUARE, 129.5f, 100.5f, 2f));
        BufferedImage image = ShapesRenderer.render(letterboxed);
        // both squares span rows 98-102, of which 98 and 99 are padding; red spans columns 126-130, white 127-131
        // and covers it: red keeps column 126
        assertEquals(ShapesScene.PAD, image.getRGB(128, 99) & 0xFFFFFF);
        assertEquals(3, painted(image, ShapeColour.RED.rgb()));
        assertEquals(15, painted(image, ShapeColour.WHITE.rgb()));
        assertEquals(256 * 200, painted(image, ShapesScene.PAD));
        BufferedImage content = ShapesRenderer.renderContent(letterboxed);
        assertEquals(256, content.getWidth());
        assertEquals(56, content.getHeight());
        assertEquals(0, painted(content, ShapesScene.PAD));
        assertEquals(image.getRGB(127, 101), content.getRGB(127, 1));
    }

    @Test
    void scenesFollowTheTrainingDistributionsAndDependOnlyOnSeedAndIndex() {
        int letterboxed = 0;
        for (int i = 0; i < 200; i++) {
            ShapesScene s = ShapesScene.generate(7, i);
            assertTrue(s.objects().size() >= 1 && s.objects().size() <= 3);
            assertEquals(s.objects().size(), s.objects().stream().map(SceneObject::colour).distinct().count(),
                    "distinct colours");
            for (int shift = 0; shift < 24; shift += 8) {
                int channel = (s.background() >> shift) & 0xFF;
                assertTrue(channel >= 90 && channel <= 200, "background channel " + channel);
            }
            if (s.letterboxed()) {
                letterboxed++;
                int band = Math.min(s.contentWidth(), s.contentHeight());
                assertTrue(band >= 150 && band < 256);
                assertTrue(s.contentWidth() == 256 || s.contentHeight() == 256);
            }
            for (SceneObject o : s.objects()) {
                assertTrue(o.cx() >= s.x0() && o.cx() < s.x1() && o.cy() >= s.y0() && o.cy() < s.y1());
            }
        }
        assertTrue(letterboxed > 40 && letterboxed < 100, letterboxed + " of 200 letterboxed, about 35% expected");
        assertEquals(ShapesScene.generate(7, 5), ShapesScene.generate(7, 5));
        assertNotEquals(ShapesScene.generate(7, 5), ShapesScene.generate(8, 5));
    }
}
