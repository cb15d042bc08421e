package io.convllava.coordinator.server;

import io.convllava.common.tensor.HostTensor;
import io.convllava.coordinator.generate.EncodedImage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class EmbeddingCacheTest {

    @Test
    void evictsTheLeastRecentlyUsedOnceTheEmbeddingsExceedTheBudget() {
        EmbeddingCache cache = new EmbeddingCache(2 * 4 * 6); // two images of [2, 3] floats
        cache.put("a", image(1f));
        cache.put("b", image(2f));
        assertNotNull(cache.get("a")); // a is now more recent than b
        cache.put("c", image(3f));
        assertNotNull(cache.get("a"));
        assertNull(cache.get("b"));
        assertEquals(3f, cache.get("c").embeddings().data()[0]);
        assertEquals(48, cache.bytes());
    }

    @Test
    void keepsTheEmbeddingsAndSizeButNotTheIntermediates() {
        EmbeddingCache cache = new EmbeddingCache(1 << 20);
        HostTensor embeddings = HostTensor.of(new float[6], 2, 3);
        cache.put("a", new EncodedImage(embeddings, 640, 480, HostTensor.of(new float[12], 3, 2, 2),
                HostTensor.of(new float[4], 2, 2)));
        EncodedImage kept = cache.get("a");
        assertSame(embeddings, kept.embeddings());
        assertEquals(640, kept.width());
        assertEquals(480, kept.height());
        assertNull(kept.pixels());
        assertNull(kept.features());
        assertEquals(24, cache.bytes());
    }

    @Test
    void aBudgetSmallerThanOneImageKeepsNothing() {
        EmbeddingCache cache = new EmbeddingCache(0);
        cache.put("a", image(1f));
        assertNull(cache.get("a"));
        assertEquals(0, cache.bytes());
    }

    private static EncodedImage image(float value) {
        float[] data = new float[6];
        java.util.Arrays.fill(data, value);
        return new EncodedImage(HostTensor.of(data, 2, 3), 10, 10, null, null);
    }
}
