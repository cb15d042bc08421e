package io.convllava.vision.cache;

import com.google.protobuf.ByteString;
import io.convllava.proto.v1.DType;
import io.convllava.proto.v1.ImageSize;
import io.convllava.proto.v1.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddingCacheTest {
    private static final String REVISION = "0123456789abcdef";
    private static final int TENSOR_BYTES = 1000;
    /** One entry without features. */
    private static final long ENTRY = TENSOR_BYTES + CachedEncoding.OVERHEAD_BYTES;

    @Test
    void aHitReturnsTheSameEntryAndIsCounted() {
        EmbeddingCache cache = new EmbeddingCache(10 * ENTRY);
        CachedEncoding entry = entry(false);
        assertTrue(cache.lookup(key('a', REVISION), false).isEmpty());
        cache.put(key('a', REVISION), entry);

        assertSame(entry, cache.lookup(key('a', REVISION), false).orElseThrow());
        CacheStats stats = cache.stats();
        assertEquals(1, stats.hits());
        assertEquals(1, stats.misses());
        assertEquals(1, stats.entries());
        assertEquals(ENTRY, stats.bytes());
    }

    @Test
    void anotherRevisionMisses() {
        EmbeddingCache cache = new EmbeddingCache(10 * ENTRY);
        cache.put(key('a', REVISION), entry(false));
        assertTrue(cache.lookup(key('a', "fedcba9876543210"), false).isEmpty());
        assertTrue(cache.lookup(key('b', REVISION), false).isEmpty());
        assertEquals(0, cache.stats().hits());
        assertEquals(2, cache.stats().misses());
    }

    @Test
    void anEntryWithoutFeaturesMissesWhenFeaturesAreAskedFor() {
        EmbeddingCache cache = new EmbeddingCache(10 * ENTRY);
        cache.put(key('a', REVISION), entry(false));
        assertTrue(cache.lookup(key('a', REVISION), true).isEmpty());

        CachedEncoding withFeatures = entry(true);
        cache.put(key('a', REVISION), withFeatures);
        assertSame(withFeatures, cache.lookup(key('a', REVISION), true).orElseThrow());
        cache.put(key('a', REVISION), entry(false)); // does not replace the fuller entry
        assertSame(withFeatures, cache.lookup(key('a', REVISION), false).orElseThrow());
        assertEquals(withFeatures.bytes(), cache.stats().bytes());
    }

    @Test
    void theLeastRecentlyUsedEntriesGoOnceTheBytesAreExceeded() {
        EmbeddingCache cache = new EmbeddingCache(3 * ENTRY);
        cache.put(key('a', REVISION), entry(false));
        cache.put(key('b', REVISION), entry(false));
        cache.put(key('c', REVISION), entry(false));
        assertTrue(cache.lookup(key('a', REVISION), false).isPresent()); // a is now the most recent

        cache.put(key('d', REVISION), entry(false)); // b goes
        assertFalse(cache.lookup(key('b', REVISION), false).isPresent());
        assertTrue(cache.lookup(key('a', REVISION), false).isPresent());
        assertTrue(cache.lookup(key('c', REVISION), false).isPresent());
        assertTrue(cache.lookup(key('d', REVISION), false).isPresent());

        cache.put(key('e', REVISION), entry(true)); // twice the tensor bytes: two entries go, the oldest first
        CacheStats stats = cache.stats();
        assertEquals(3, stats.evictions());
        assertEquals(2, stats.entries());
        assertTrue(stats.bytes() <= 3 * ENTRY, "bytes " + stats.bytes());
        assertTrue(cache.lookup(key('d', REVISION), false).isPresent());
        assertTrue(cache.lookup(key('e', REVISION), true).isPresent());
    }

    @Test
    void anEntryLargerThanTheBudgetIsNotKept() {
        EmbeddingCache cache = new EmbeddingCache(ENTRY);
        cache.put(key('a', REVISION), entry(false));
        cache.put(key('b', REVISION), entry(true));
        assertTrue(cache.lookup(key('a', REVISION), false).isPresent(), "the small entry stays");
        assertTrue(cache.lookup(key('b', REVISION), false).isEmpty());
    }

    @Test
    void zeroBytesDisablesTheCache() {
        EmbeddingCache cache = new EmbeddingCache(0);
        cache.put(key('a', REVISION), entry(false));
        assertTrue(cache.lookup(key('a', REVISION), false).isEmpty());
        assertEquals(new CacheStats(0, 1, 0, 0, 0, 0), cache.stats());
        assertThrows(IllegalArgumentException.class, () -> new EmbeddingCache(-1));
    }

    private static EmbeddingKey key(char c, String revision) {
        return new EmbeddingKey(String.valueOf(c).repeat(64), revision);
    }

    private static CachedEncoding entry(boolean features) {
        Tensor t = Tensor.newBuilder().setDtype(DType.FLOAT32).addShape(TENSOR_BYTES / 4)
                .setData(ByteString.copyFrom(new byte[TENSOR_BYTES])).build();
        return new CachedEncoding(t, features ? t : null, ImageSize.newBuilder().setWidth(4).setHeight(3).build());
    }
}
