package io.convllava.coordinator.server;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Entries within a byte budget, the least recently used going first once it is exceeded: what the coordinator's
 * caches ({@link ImageCache}, {@link EmbeddingCache}) keep. Not thread-safe: its owner synchronizes.
 */
final class LruByBytes<K, V> {
    private final long maxBytes;
    private final ToLongFunction<V> sizeOf;
    private final LinkedHashMap<K, V> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    LruByBytes(long maxBytes, ToLongFunction<V> sizeOf) {
        this.maxBytes = maxBytes;
        this.sizeOf = sizeOf;
    }

    /** The value of {@code key}, or null; a hit becomes the most recently used entry. */
    V get(K key) {
        return entries.get(key);
    }

    /** Keeps {@code value} as the most recent entry, then evicts from the least recent while over the budget. */
    void put(K key, V value) {
        V previous = entries.put(key, value);
        if (previous != null) {
            bytes -= sizeOf.applyAsLong(previous);
        }
        bytes += sizeOf.applyAsLong(value);
        Iterator<Map.Entry<K, V>> oldestFirst = entries.entrySet().iterator();
        while (bytes > maxBytes && oldestFirst.hasNext()) {
            bytes -= sizeOf.applyAsLong(oldestFirst.next().getValue());
            oldestFirst.remove();
        }
    }

    long maxBytes() {
        return maxBytes;
    }

    int size() {
        return entries.size();
    }

    long bytes() {
        return bytes;
    }
}
