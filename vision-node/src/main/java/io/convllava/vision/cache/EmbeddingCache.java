package io.convllava.vision.cache;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A vision node's embeddings of recently encoded images by {@link EmbeddingKey} (image content x model revision),
 * bounded in bytes: the least recently used entries go first once a new one would exceed the budget. A budget of 0
 * disables it (every lookup misses, nothing is kept). Thread-safe; hits and misses are counted for metrics.
 */
public final class EmbeddingCache {
    /** 1 GiB: about 450 images at 768 px (144 x 4096 float32 embeddings, 2.25 MiB) or 110 at 1536 px. */
    public static final long DEFAULT_MAX_BYTES = 1L << 30;

    private final long maxBytes;
    private final LinkedHashMap<EmbeddingKey, CachedEncoding> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;
    private long hits;
    private long misses;
    private long evictions;

    /** @param maxBytes the byte budget; 0 disables the cache */
    public EmbeddingCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("embedding cache size must be >= 0 bytes (0 disables it), got "
                    + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /**
     * The entry for {@code key}, if one is cached that has what the caller needs (features too when
     * {@code needFeatures}); counts a hit or a miss. A hit becomes the most recently used entry.
     */
    public synchronized Optional<CachedEncoding> lookup(EmbeddingKey key, boolean needFeatures) {
        CachedEncoding found = entries.get(key);
        if (found == null || (needFeatures && !found.hasFeatures())) {
            misses++;
            return Optional.empty();
        }
        hits++;
        return Optional.of(found);
    }

    /**
     * Keeps {@code encoding} as the most recently used entry, evicting the least recently used ones until it fits.
     * An entry with features is not replaced by one without; an encoding larger than the whole budget is not kept.
     */
    public synchronized void put(EmbeddingKey key, CachedEncoding encoding) {
        long size = encoding.bytes();
        if (size > maxBytes) {
            return;
        }
        CachedEncoding previous = entries.get(key);
        if (previous != null && previous.hasFeatures() && !encoding.hasFeatures()) {
            return; // the get above made it the most recent
        }
        if (previous != null) {
            entries.remove(key);
            bytes -= previous.bytes();
        }
        Iterator<Map.Entry<EmbeddingKey, CachedEncoding>> oldestFirst = entries.entrySet().iterator();
        while (bytes + size > maxBytes && oldestFirst.hasNext()) {
            bytes -= oldestFirst.next().getValue().bytes();
            oldestFirst.remove();
            evictions++;
        }
        entries.put(key, encoding);
        bytes += size;
    }

    /** The byte budget; 0 = disabled. */
    public long maxBytes() {
        return maxBytes;
    }

    public synchronized CacheStats stats() {
        return new CacheStats(hits, misses, evictions, entries.size(), bytes, maxBytes);
    }
}
