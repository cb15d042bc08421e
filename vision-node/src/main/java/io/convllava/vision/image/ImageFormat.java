package io.convllava.vision.image;

import java.nio.charset.StandardCharsets;

/** The image container formats we decode, recognised by their leading magic bytes (never by a file name). */
enum ImageFormat {
    PNG("png"),
    JPEG("jpeg"),
    GIF("gif"),
    BMP("bmp");

    /** The ImageIO format name whose reader decodes this format. */
    final String imageIoName;

    ImageFormat(String imageIoName) {
        this.imageIoName = imageIoName;
    }

    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final byte[] JPEG_MAGIC = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
    /** File header (14) plus the smallest DIB header (12). */
    private static final int BMP_MIN_HEADER = 26;

    /** The format of {@code bytes}, or an {@link InvalidImageException} naming what the bytes look like instead. */
    static ImageFormat detect(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new InvalidImageException("the image is empty (0 bytes); send PNG, JPEG, BMP or GIF file bytes");
        }
        if (startsWith(bytes, PNG_MAGIC)) {
            return PNG;
        }
        if (startsWith(bytes, JPEG_MAGIC)) {
            return JPEG;
        }
        if (startsWithAscii(bytes, "GIF87a") || startsWithAscii(bytes, "GIF89a")) {
            return GIF;
        }
        if (startsWithAscii(bytes, "BM") && bytes.length >= BMP_MIN_HEADER) {
            return BMP;
        }
        throw new InvalidImageException("unsupported or unrecognised image format (" + describeUnsupported(bytes)
                + ", " + bytes.length + " bytes starting with " + hexPrefix(bytes)
                + "); send PNG, JPEG, BMP or GIF file bytes");
    }

    private static String describeUnsupported(byte[] b) {
        if (startsWithAscii(b, "RIFF") && b.length >= 12 && new String(b, 8, 4, StandardCharsets.ISO_8859_1).equals("WEBP")) {
            return "WebP is not supported";
        }
        if (startsWithAscii(b, "II*\0") || startsWithAscii(b, "MM\0*")) {
            return "TIFF is not supported";
        }
        if (b.length >= 12 && new String(b, 4, 4, StandardCharsets.ISO_8859_1).equals("ftyp")) {
            return "HEIF/AVIF is not supported";
        }
        if (isShortPrefixOf(b, PNG_MAGIC) || isShortPrefixOf(b, JPEG_MAGIC) || isShortPrefixOf(b, ascii("GIF87a"))
                || isShortPrefixOf(b, ascii("GIF89a")) || startsWithAscii(b, "BM")) {
            return "the bytes end inside the file header, so the file is truncated";
        }
        return "no known image signature";
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** {@code bytes} is shorter than {@code signature} and matches its beginning. */
    private static boolean isShortPrefixOf(byte[] bytes, byte[] signature) {
        return bytes.length < signature.length && startsWith(signature, bytes);
    }

    private static boolean startsWithAscii(byte[] bytes, String prefix) {
        return startsWith(bytes, ascii(prefix));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String hexPrefix(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, 8); i++) {
            sb.append(String.format("%02x", bytes[i] & 0xFF));
        }
        return "0x" + sb;
    }
}
