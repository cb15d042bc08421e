package io.convllava.llm.kernel;

import io.convllava.common.sampling.Sampler;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link TokenPicker#argMax} picks what {@link Sampler#argMax} picks, ties, NaNs and signed zeros included. */
class TokenPickerTest {
    @Test
    void matchesTheScalarArgMax() {
        SplittableRandom random = new SplittableRandom(11);
        for (int n : new int[] {1, 5, 16, 17, 100, 32000, 32003}) {
            for (int trial = 0; trial < 20; trial++) {
                float[] logits = new float[n];
                for (int i = 0; i < n; i++) {
                    logits[i] = (float) random.nextGaussian();
                }
                if (trial % 4 == 1) { // a tie for the maximum: the first one wins
                    logits[random.nextInt(n)] = 9f;
                    logits[random.nextInt(n)] = 9f;
                }
                if (trial % 4 == 2) { // a NaN somewhere
                    logits[random.nextInt(n)] = Float.NaN;
                }
                if (trial % 4 == 3) { // signed zeros only
                    for (int i = 0; i < n; i++) {
                        logits[i] = random.nextBoolean() ? 0f : -0f;
                    }
                }
                assertEquals(Sampler.argMax(logits), TokenPicker.argMax(logits), "n " + n + ", trial " + trial);
                // the same logits as a row of a larger buffer, as a batched step leaves them
                int from = 1 + random.nextInt(40);
                float[] buffer = new float[from + n + random.nextInt(40)];
                Arrays.fill(buffer, 99f); // around the row: larger than any logit in it
                System.arraycopy(logits, 0, buffer, from, n);
                assertEquals(Sampler.argMax(logits), TokenPicker.argMax(buffer, from, n), "row of " + n + " at " + from
                        + ", trial " + trial);
            }
        }
        float[] nanFirst = {Float.NaN, 1f, 2f};
        assertEquals(Sampler.argMax(nanFirst), TokenPicker.argMax(nanFirst));
        float[] infinities = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertEquals(Sampler.argMax(infinities), TokenPicker.argMax(infinities));
    }
}
