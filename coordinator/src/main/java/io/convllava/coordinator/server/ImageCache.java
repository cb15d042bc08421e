package io.convllava.coordinator.server;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Recently seen image files by the lower-case hex SHA-256 of their bytes, so a client can send an image once and
 * refer to it by hash afterwards. Least recently used entries go first once the byte budget is exceeded.
 */
public final class ImageCache {
    private final long maxBytes;
    private final LinkedHashMap<String, byte[]> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    public ImageCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("image cache size must be >= 0 bytes, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
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
        byte[] previous = entries.put(caller + "/" + hash, image);
        if (previous != null) {
            bytes -= previous.length;
        }
        bytes += image.length;
        Iterator<Map.Entry<String, byte[]>> oldestFirst = entries.entrySet().iterator();
        while (bytes > maxBytes && oldestFirst.hasNext()) {
            bytes -= oldestFirst.next().getValue().length;
            oldestFirst.remove();
        }
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
        return bytes;
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
