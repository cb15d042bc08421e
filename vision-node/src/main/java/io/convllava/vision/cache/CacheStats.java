package io.convllava.vision.cache;

/**
 * Counters of an {@link EmbeddingCache} since it was created.
 *
 * @param hits      images answered from the cache (no decoding, preprocessing or encoding)
 * @param misses    images that had to be encoded (also every image while the cache is disabled)
 * @param evictions entries dropped to stay within the byte budget
 * @param entries   entries held now
 * @param bytes     bytes held now
 * @param maxBytes  the byte budget; 0 = disabled
 */
public record CacheStats(long hits, long misses, long evictions, int entries, long bytes, long maxBytes) {
}
