package io.convllava.cli;

import io.convllava.proto.v1.BoundingBox;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a copy of an image with predicted boxes drawn on it, scaled up so small images stay readable. */
final class BoxDrawing {
    private BoxDrawing() {
    }

    static void write(byte[] imageBytes, Iterable<BoundingBox> boxes, String label, Path out) throws IOException {
        BufferedImage source = ImageIO.read(new ByteArrayInputStream(imageBytes));
        if (source == null) {
            throw new IOException("cannot read the image to draw on");
        }
        int scale = Math.max(1, 512 / Math.max(source.getWidth(), source.getHeight()));
        BufferedImage canvas = new BufferedImage(source.getWidth() * scale, source.getHeight() * scale,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            g.drawImage(source, 0, 0, canvas.getWidth(), canvas.getHeight(), null);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setStroke(new BasicStroke(3f));
            for (BoundingBox b : boxes) {
                int x = Math.round(b.getX1() * scale);
                int y = Math.round(b.getY1() * scale);
                int w = Math.round((b.getX2() - b.getX1()) * scale);
                int h = Math.round((b.getY2() - b.getY1()) * scale);
                g.setColor(Color.MAGENTA);
                g.drawRect(x, y, w, h);
                g.drawString(label, x + 4, Math.max(12, y - 6));
            }
        } finally {
            g.dispose();
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ImageIO.write(canvas, "png", out.toFile());
    }
}
