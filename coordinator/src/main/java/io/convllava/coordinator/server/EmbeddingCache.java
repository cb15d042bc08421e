package io.convllava.coordinator.server;

import io.convllava.coordinator.generate.EncodedImage;

/**
 * The embeddings of the images this coordinator had encoded recently, by the SHA-256 of the image file: a request
 * about an image seen a moment ago (the next turn of a conversation, many users asking about one picture) takes them
 * from here without sending the file to a vision node again. The vision nodes keep their own, larger caches; this one
 * saves the round trip and the upload. Least recently used entries go first once the embeddings' bytes exceed the
 * budget; the coordinator serves one model, so the hash alone is the key.
 */
final class EmbeddingCache {
    private final LruByBytes<String, EncodedImage> entries;

    /** @param maxBytes budget of the kept embeddings; 0 keeps none */
    EmbeddingCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("embedding cache size must be >= 0 bytes, got " + maxBytes);
        }
        this.entries = new LruByBytes<>(maxBytes, EmbeddingCache::sizeOf);
    }

    /** The embeddings of the image with this hash, if kept; a hit makes them the most recent. */
    synchronized EncodedImage get(String sha256) {
        return entries.get(sha256);
    }

    /** Keeps an image's embeddings (never its intermediates), evicting the least recently used beyond the budget. */
    synchronized void put(String sha256, EncodedImage image) {
        EncodedImage kept = new EncodedImage(image.embeddings(), image.width(), image.height(), null, null);
        if (sizeOf(kept) <= entries.maxBytes()) { // one larger than the whole budget would only empty it
            entries.put(sha256, kept);
        }
    }

    synchronized long bytes() {
        return entries.bytes();
    }

    private static long sizeOf(EncodedImage image) {
        return 4L * image.embeddings().data().length;
    }
}
