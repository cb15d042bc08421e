package io.convllava.vision.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes PNG, JPEG, BMP and GIF (first frame) bytes with javax.imageio into 8-bit RGB, converted like PIL's
 * {@code convert("RGB")} (see {@link PilRgbConversion}); a GIF's first frame is placed on its logical screen as PIL
 * does ({@link GifScreen}). The format is taken from the bytes' signature. Thread-safe. ImageIO's JPEG decoder is
 * libjpeg-based and matched Pillow 9.4 bit for bit on baseline, progressive and 4:2:0 files; other libjpeg builds
 * may differ by a level.
 */
public final class ImageDecoder {

    /** Default decompression-bomb guard: images above 64 Mi pixels are refused before their pixels are decoded. */
    public static final long DEFAULT_MAX_PIXELS = 64L * 1024 * 1024;

    /** An {@link RgbImage} is one Java array, so it holds at most this many pixels. */
    public static final long MAX_SUPPORTED_PIXELS = Integer.MAX_VALUE / 3;

    private ImageDecoder() {
    }

    /** Decodes with the {@link #DEFAULT_MAX_PIXELS} limit. */
    public static RgbImage decode(byte[] bytes) {
        return decode(bytes, DEFAULT_MAX_PIXELS);
    }

    /**
     * Decodes {@code bytes}, refusing images with more than {@code maxPixels} pixels.
     *
     * @throws InvalidImageException if the bytes are empty, of an unknown format, truncated, corrupt or too large
     */
    public static RgbImage decode(byte[] bytes, long maxPixels) {
        return decode(bytes, maxPixels, false);
    }

    /**
     * As {@link #decode(byte[], long)}; when {@code paddedToSquare} (the image will be padded to a square of its
     * longer side, as ConvLLaVA's preprocessing does), the limit applies to that square, checked from the header
     * before any pixel is decoded.
     */
    public static RgbImage decode(byte[] bytes, long maxPixels, boolean paddedToSquare) {
        return decode(bytes, header(bytes, maxPixels, paddedToSquare));
    }

    /** Decodes {@code bytes} whose {@link #header} was read (and checked against the limits) already. */
    public static RgbImage decode(byte[] bytes, Header header) {
        ImageReader reader = readerFor(header.format());
        List<String> warnings = new ArrayList<>();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            boolean gif = header.format() == ImageFormat.GIF;
            reader.setInput(in, true, !gif); // GIF needs its metadata for the frame's place on the screen
            reader.addIIOReadWarningListener(collectInto(warnings));
            GifScreen screen = gif ? readGifScreen(reader, bytes.length) : null;
            BufferedImage image = readFirstImage(reader, header.format(), header.width(), header.height());
            for (String warning : warnings) {
                if (warning.toLowerCase(Locale.ROOT).contains("premature end")) {
                    throw new InvalidImageException("the " + header.format() + " image (" + header.width() + "x"
                            + header.height() + ") is truncated: " + warning + " (" + bytes.length
                            + " bytes received)");
                }
            }
            return PilRgbConversion.toRgb(screen != null ? screen.place(image) : image, header.format());
        } catch (IOException e) {
            throw new InvalidImageException("cannot read the " + header.format() + " image: " + e.getMessage(), e);
        } finally {
            reader.dispose();
        }
    }

    /** An image's format and size (a GIF's: its logical screen), read from its header. */
    public record Header(ImageFormat format, int width, int height) {
    }

    /**
     * The format and size of {@code bytes}, from the header alone, checked against the limits of
     * {@link #decode(byte[], long, boolean)}: what decoding them would take can be known before it starts.
     *
     * @throws InvalidImageException for empty, unknown, unreadable or too large images
     */
    public static Header header(byte[] bytes, long maxPixels, boolean paddedToSquare) {
        if (maxPixels <= 0 || maxPixels > MAX_SUPPORTED_PIXELS) {
            throw new IllegalArgumentException("maxPixels must be in 1.." + MAX_SUPPORTED_PIXELS + ", got " + maxPixels);
        }
        ImageFormat format = ImageFormat.detect(bytes);
        ImageReader reader = readerFor(format);
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            boolean gif = format == ImageFormat.GIF;
            reader.setInput(in, true, !gif);
            int width = readDimension(reader, format, bytes.length, true);
            int height = readDimension(reader, format, bytes.length, false);
            GifScreen screen = gif ? readGifScreen(reader, bytes.length) : null;
            if (screen != null) {
                width = screen.width;
                height = screen.height;
            }
            long pixels = (long) width * height;
            if (pixels > maxPixels) {
                throw new InvalidImageException("the " + format + " image is " + width + "x" + height + " = " + pixels
                        + " pixels, above the limit of " + maxPixels + " pixels; send a smaller image");
            }
            long side = Math.max(width, height);
            if (paddedToSquare && side * side > maxPixels) {
                throw new InvalidImageException("the " + format + " image is " + width + "x" + height + ": padded to"
                        + " a square for the model it would be " + side + "x" + side + " = " + side * side
                        + " pixels, above the limit of " + maxPixels + " pixels; send a smaller image or crop it"
                        + " closer to a square");
            }
            return new Header(format, width, height);
        } catch (IOException e) {
            throw new InvalidImageException("cannot read the " + format + " image: " + e.getMessage(), e);
        } finally {
            reader.dispose();
        }
    }

    private static ImageReader readerFor(ImageFormat format) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.imageIoName);
        if (!readers.hasNext()) {
            throw new IllegalStateException("this Java runtime has no ImageIO reader for " + format);
        }
        return readers.next();
    }

    private static int readDimension(ImageReader reader, ImageFormat format, int byteCount, boolean width) {
        try {
            return width ? reader.getWidth(0) : reader.getHeight(0);
        } catch (IOException | RuntimeException e) {
            throw new InvalidImageException("the " + format + " header is unreadable or truncated (" + byteCount
                    + " bytes): " + describe(e), e);
        }
    }

    private static GifScreen readGifScreen(ImageReader reader, int byteCount) {
        try {
            return GifScreen.of(reader);
        } catch (IOException | RuntimeException e) {
            throw new InvalidImageException("the GIF screen or frame descriptor is unreadable (" + byteCount
                    + " bytes): " + describe(e), e);
        }
    }

    private static BufferedImage readFirstImage(ImageReader reader, ImageFormat format, int width, int height) {
        try {
            return reader.read(0);
        } catch (IOException | RuntimeException e) {
            // ImageIO readers report corrupt data with IIOException but also with unchecked exceptions
            throw new InvalidImageException("cannot decode the " + format + " image (" + width + "x" + height
                    + "), it is corrupt, truncated or uses an unsupported variant: " + describe(e), e);
        }
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
        for (Throwable c = e.getCause(); c != null && c != e; c = c.getCause()) {
            if (c.getMessage() != null) {
                sb.append(": ").append(c.getMessage());
            }
        }
        return sb.toString();
    }

    private static IIOReadWarningListener collectInto(List<String> warnings) {
        return (source, warning) -> warnings.add(warning);
    }
}
