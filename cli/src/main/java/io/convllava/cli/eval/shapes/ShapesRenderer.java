package io.convllava.cli.eval.shapes;

import java.awt.image.BufferedImage;

/**
 * Paints a {@link ShapesScene} exactly as the demo model's training renderer does: no anti-aliasing, a pixel takes
 * a shape's colour when its centre (x + 0.5, y + 0.5) lies inside the shape (edges included, float32), later shapes
 * over earlier ones, then everything outside the content area takes the padding colour.
 */
public final class ShapesRenderer {
    private ShapesRenderer() {
    }

    /** The whole 256 px square scene. */
    public static BufferedImage render(ShapesScene scene) {
        int side = ShapesScene.SIDE;
        BufferedImage image = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < side; y++) {
            float py = y + 0.5f;
            for (int x = 0; x < side; x++) {
                float px = x + 0.5f;
                int rgb = scene.background();
                for (SceneObject o : scene.objects()) {
                    if (o.shape().covers(px - o.cx(), py - o.cy(), o.r())) {
                        rgb = o.colour().rgb();
                    }
                }
                boolean content = x >= scene.x0() && x < scene.x1() && y >= scene.y0() && y < scene.y1();
                image.setRGB(x, y, content ? rgb : ShapesScene.PAD);
            }
        }
        return image;
    }

    /**
     * Only the content area: a letterboxed scene becomes a non-square image which, padded back to a square by the
     * model's preprocessing, is the same picture as the whole scene.
     */
    public static BufferedImage renderContent(ShapesScene scene) {
        BufferedImage whole = render(scene);
        BufferedImage content = new BufferedImage(scene.contentWidth(), scene.contentHeight(),
                BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < content.getHeight(); y++) {
            for (int x = 0; x < content.getWidth(); x++) {
                content.setRGB(x, y, whole.getRGB(scene.x0() + x, scene.y0() + y));
            }
        }
        return content;
    }
}
