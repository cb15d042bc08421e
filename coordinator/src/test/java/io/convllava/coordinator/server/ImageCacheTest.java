package io.convllava.coordinator.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageCacheTest {

    @Test
    void keysAreTheSha256OfTheBytes() {
        ImageCache cache = new ImageCache(1 << 20);
        String hash = cache.put("abc".getBytes());
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hash);
        assertArrayEquals("abc".getBytes(), cache.get(hash).orElseThrow());
        assertArrayEquals("abc".getBytes(), cache.get(hash.toUpperCase()).orElseThrow());
    }

    @Test
    void evictsTheLeastRecentlyUsedOnceOverBudget() {
        ImageCache cache = new ImageCache(25);
        String a = cache.put(new byte[10]);
        String b = cache.put(new byte[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
        cache.get(a); // a is now more recent than b
        String c = cache.put(new byte[] {2, 2, 2, 2, 2, 2, 2, 2, 2, 2});
        assertTrue(cache.get(a).isPresent());
        assertFalse(cache.get(b).isPresent());
        assertTrue(cache.get(c).isPresent());
        assertEquals(20, cache.bytes());
    }

    @Test
    void sameImageTwiceIsStoredOnce() {
        ImageCache cache = new ImageCache(100);
        cache.put(new byte[30]);
        cache.put(new byte[30]);
        assertEquals(1, cache.size());
        assertEquals(30, cache.bytes());
    }

    @Test
    void recognisesHexHashes() {
        assertTrue(ImageCache.isSha256("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assertFalse(ImageCache.isSha256("ba7816bf"));
        assertFalse(ImageCache.isSha256("zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }
}
