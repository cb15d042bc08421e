package io.convllava.cli.bench;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Images for benchmarks: a synthetic picture, and variants of a picture that no cache has seen. */
public final class BenchImages {
    private BenchImages() {
    }

    /** A blue PNG with an orange oval. */
    public static byte[] synthetic(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(new Color(40, 120, 200));
        g.fillRect(0, 0, width, height);
        g.setColor(Color.ORANGE);
        g.fillOval(width / 4, height / 4, width / 3, height / 3);
        g.dispose();
        return png(image);
    }

    /**
     * {@code image} as a PNG whose top-left pixel's blue channel is {@code variant} (mod 256) and the next pixel's
     * is {@code variant / 256}: the same picture to the model (two pixels of a corner), but other bytes and so
     * another content hash for every variant: each one is new to an image or embedding cache.
     */
    public static byte[] variant(byte[] image, int variant) {
        BufferedImage decoded;
        try {
            decoded = ImageIO.read(new ByteArrayInputStream(image));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bench image", e);
        }
        if (decoded == null || decoded.getWidth() < 2) {
            throw new IllegalArgumentException("the bench image is not a PNG, JPEG, BMP or GIF at least 2 pixels wide");
        }
        int w = decoded.getWidth();
        int h = decoded.getHeight();
        BufferedImage copy = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        // alpha dropped, not composited: what the model's decoding (PIL's convert('RGB')) does
        copy.setRGB(0, 0, w, h, decoded.getRGB(0, 0, w, h, null, 0, w), 0, w);
        setBlue(copy, 0, variant & 0xff);
        setBlue(copy, 1, (variant >>> 8) & 0xff);
        return png(copy);
    }

    private static void setBlue(BufferedImage image, int x, int blue) {
        image.setRGB(x, 0, (image.getRGB(x, 0) & 0xffffff00) | blue);
    }

    private static byte[] png(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
