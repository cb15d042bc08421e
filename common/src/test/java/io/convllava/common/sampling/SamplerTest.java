package io.convllava.common.sampling;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static final float[] LOGITS = {0.5f, 3f, 2.9f, -1f, 2.8f, 0f};

    @Test
    void greedyIsTheArgMax() {
        assertEquals(1, Sampler.sample(LOGITS, SamplingParams.GREEDY, 0));
        assertEquals(1, Sampler.sample(LOGITS, new SamplingParams(1f, 1f, 1, 7), 3), "top_k 1 is greedy");
    }

    @Test
    void theDrawDependsOnlyOnSeedAndStep() {
        SamplingParams p = new SamplingParams(1f, 1f, 0, 42);
        for (int step = 0; step < 20; step++) {
            assertEquals(Sampler.sample(LOGITS, p, step), Sampler.sample(LOGITS.clone(), p, step));
        }
    }

    @Test
    void topKAndTopPKeepOnlyTheLikelyTokens() {
        Set<Integer> topK = new HashSet<>();
        Set<Integer> topP = new HashSet<>();
        for (int step = 0; step < 400; step++) {
            topK.add(Sampler.sample(LOGITS, new SamplingParams(10f, 1f, 2, 1), step));
            // at temperature 1 the two leading tokens hold 0.66 of the mass, three 0.95: top_p 0.8 keeps exactly three
            topP.add(Sampler.sample(LOGITS, new SamplingParams(1f, 0.8f, 0, 1), step));
        }
        assertEquals(Set.of(1, 2), topK);
        assertEquals(Set.of(1, 2, 4), topP);
    }

    @Test
    void highTemperatureReachesEveryToken() {
        Set<Integer> seen = new HashSet<>();
        for (int step = 0; step < 2000; step++) {
            seen.add(Sampler.sample(LOGITS, new SamplingParams(50f, 1f, 0, 3), step));
        }
        assertTrue(seen.size() == LOGITS.length, seen.toString());
    }

    @Test
    void invalidParametersAreRefusedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1f, 1f, 0, 0))
                .getMessage().contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0f, 0, 0))
                .getMessage().contains("top_p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 1f, -2, 0))
                .getMessage().contains("top_k"));
    }
}
