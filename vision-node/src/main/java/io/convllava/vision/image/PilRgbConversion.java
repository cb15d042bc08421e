package io.convllava.vision.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Turns an image decoded by ImageIO into 8-bit RGB the way PIL's {@code Image.open(f).convert("RGB")} turns the
 * same file into RGB. Raw raster samples are used, never {@code BufferedImage.getRGB}: Java would colour-manage
 * grey (linear CS_GRAY) and ICC-tagged images, PIL does not.
 * <ul>
 *   <li>RGB: the three colour samples; alpha is dropped (no compositing onto a background);</li>
 *   <li>grey (PIL "L"/"LA"): the grey value replicated to R, G, B; alpha dropped;</li>
 *   <li>palette (PIL "P"/"PA", and PNG greys under 8 bits, which ImageIO also gives a palette): palette lookup,
 *       palette alpha ignored; an index past the palette's end gives black;</li>
 *   <li>16-bit samples: PIL keeps only the high byte of 16-bit RGB, RGBA and grey+alpha PNGs ("RGB;16B" etc.), but
 *       opens a 16-bit grey PNG as "I;16", whose conversion to RGB SATURATES: {@code min(v, 255)}, so most 16-bit
 *       grey images become nearly white. We reproduce both, since the reference model saw what PIL produces;</li>
 *   <li>CMYK JPEG (ImageIO already undoes Adobe's inversion, as PIL does): PIL's naive {@code cmyk2rgb}, no ICC;</li>
 *   <li>packed samples under 8 bits (BMP 5-5-5 / 5-6-5): {@code v * 255 / (2^bits - 1)}, truncated, as PIL unpacks.</li>
 * </ul>
 */
final class PilRgbConversion {
    private PilRgbConversion() {
    }

    static RgbImage toRgb(BufferedImage image, ImageFormat format) {
        ColorModel cm = image.getColorModel();
        if (cm instanceof IndexColorModel icm) {
            return fromPalette(image.getRaster(), icm);
        }
        int colourSpace = cm.getColorSpace().getType();
        if (colourSpace == ColorSpace.TYPE_GRAY && cm.getNumColorComponents() == 1) {
            return fromGrey(image.getRaster(), cm);
        }
        if (colourSpace == ColorSpace.TYPE_RGB && cm.getNumColorComponents() == 3) {
            return fromRgb(image.getRaster(), cm);
        }
        if (colourSpace == ColorSpace.TYPE_CMYK && cm.getNumComponents() == 4 && cm.getComponentSize(0) == 8) {
            return fromCmyk(image.getRaster());
        }
        throw new InvalidImageException("the " + format + " image uses an unsupported colour model ("
                + colourSpaceName(colourSpace) + ", " + cm.getNumComponents() + " components); convert it to RGB first");
    }

    private static RgbImage fromPalette(Raster raster, IndexColorModel icm) {
        int size = icm.getMapSize();
        byte[] reds = new byte[size];
        byte[] greens = new byte[size];
        byte[] blues = new byte[size];
        icm.getReds(reds);
        icm.getGreens(greens);
        icm.getBlues(blues);
        return fromFirstBand(raster, (index, rgb, o) -> {
            if (index < size) {
                rgb[o] = reds[index];
                rgb[o + 1] = greens[index];
                rgb[o + 2] = blues[index];
            }
        });
    }

    private static RgbImage fromGrey(Raster raster, ColorModel cm) {
        int bits = cm.getComponentSize(0);
        boolean saturate = bits == 16 && !cm.hasAlpha(); // PIL "I;16" -> "RGB"
        return fromFirstBand(raster, (sample, rgb, o) -> {
            byte v = (byte) (saturate ? Math.min(sample, 255) : to8Bit(sample, bits));
            rgb[o] = v;
            rgb[o + 1] = v;
            rgb[o + 2] = v;
        });
    }

    /** Writes the RGB bytes of one pixel, given its band-0 sample, at {@code rgb[o .. o + 2]}. */
    private interface PixelFromSample {
        void write(int sample, byte[] rgb, int o);
    }

    /** An image whose every pixel's colour follows from its band-0 sample alone (palette index, grey value). */
    private static RgbImage fromFirstBand(Raster raster, PixelFromSample pixel) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        byte[] rgb = new byte[w * h * 3]; // black where the pixel writes nothing
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
            int o = y * w * 3;
            for (int x = 0; x < w; x++, o += 3) {
                pixel.write(row[x], rgb, o);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    private static RgbImage fromRgb(Raster raster, ColorModel cm) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        byte[] rgb = new byte[w * h * 3];
        int[] row = new int[w];
        for (int c = 0; c < 3; c++) {
            int bits = cm.getComponentSize(c);
            for (int y = 0; y < h; y++) {
                raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, c, row);
                int o = y * w * 3 + c;
                for (int x = 0; x < w; x++, o += 3) {
                    rgb[o] = (byte) to8Bit(row[x], bits);
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** PIL's {@code cmyk2rgb}: {@code (255 - k) - c * (255 - k) / 255} with its rounded integer division. */
    private static RgbImage fromCmyk(Raster raster) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        byte[] rgb = new byte[w * h * 3];
        int[] row = new int[w * 4];
        for (int y = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            int o = y * w * 3;
            for (int x = 0; x < w; x++, o += 3) {
                int notBlack = 255 - row[x * 4 + 3];
                for (int c = 0; c < 3; c++) {
                    int t = row[x * 4 + c] * notBlack + 128;
                    int v = notBlack - (((t >> 8) + t) >> 8);
                    rgb[o + c] = (byte) Math.max(0, Math.min(255, v));
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** High byte of wider samples; narrower ones stretched to 0..255 with truncation. */
    private static int to8Bit(int v, int bits) {
        if (bits == 8) {
            return v;
        }
        if (bits > 8) {
            return v >>> (bits - 8);
        }
        return v * 255 / ((1 << bits) - 1);
    }

    private static String colourSpaceName(int type) {
        return switch (type) {
            case ColorSpace.TYPE_CMYK -> "CMYK";
            case ColorSpace.TYPE_YCbCr -> "YCbCr";
            case ColorSpace.TYPE_GRAY -> "grey";
            case ColorSpace.TYPE_RGB -> "RGB";
            default -> "colour space type " + type;
        };
    }
}
