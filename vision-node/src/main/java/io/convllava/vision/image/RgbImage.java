package io.convllava.vision.image;

/**
 * An 8-bit RGB image, row-major HWC: the byte of channel {@code c} at pixel {@code (x, y)} is
 * {@code rgb[(y * width + x) * 3 + c]}, read as unsigned.
 */
public record RgbImage(int width, int height, byte[] rgb) {

    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (rgb == null || (long) rgb.length != (long) width * height * 3) {
            throw new IllegalArgumentException("a " + width + "x" + height + " RGB image needs "
                    + (long) width * height * 3 + " bytes, got " + (rgb == null ? "null" : rgb.length));
        }
    }

    /** A {@code width x height} image filled with one colour. */
    public static RgbImage filled(int width, int height, int red, int green, int blue) {
        byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)];
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = (byte) red;
            rgb[i + 1] = (byte) green;
            rgb[i + 2] = (byte) blue;
        }
        return new RgbImage(width, height, rgb);
    }

    /** Channel {@code c} (0 = red) of pixel {@code (x, y)}, 0..255. */
    public int sample(int x, int y, int c) {
        return rgb[(y * width + x) * 3 + c] & 0xFF;
    }
}
