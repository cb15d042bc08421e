package io.convllava.coordinator.server;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Recently seen image files by the lower-case hex SHA-256 of their bytes, so a client can send an image once and
 * refer to it by hash afterwards. Least recently used entries go first once the byte budget is exceeded.
 */
public final class ImageCache {
    private final LruByBytes<String, byte[]> entries;

    public ImageCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("image cache size must be >= 0 bytes, got " + maxBytes);
        }
        this.entries = new LruByBytes<>(maxBytes, image -> image.length);
    }

    /** Remembers the image for every caller and returns its hash. */
    public String put(byte[] image) {
        return put("", image);
    }

    /**
     * Remembers the image for {@code caller} only (another caller can neither use it nor learn it was sent) and
     * returns its hash. An image larger than the whole budget is not kept.
     */
    public synchronized String put(String caller, byte[] image) {
        String hash = sha256(image);
        entries.put(caller + "/" + hash, image);
        return hash;
    }

    /** The image with this hash (lower- or upper-case hex), if still cached; a hit makes it the most recent. */
    public Optional<byte[]> get(String sha256) {
        return get("", sha256);
    }

    /** As {@link #get(String)}, among the images {@code caller} sent. */
    public synchronized Optional<byte[]> get(String caller, String sha256) {
        return Optional.ofNullable(entries.get(caller + "/" + sha256.toLowerCase()));
    }

    public synchronized int size() {
        return entries.size();
    }

    public synchronized long bytes() {
        return entries.bytes();
    }

    /** Whether {@code s} looks like a SHA-256 in hex (64 hex digits). */
    public static boolean isSha256(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    public static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
