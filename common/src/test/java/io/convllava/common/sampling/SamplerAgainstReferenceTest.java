package io.convllava.common.sampling;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link Sampler} against the boxed full sort it replaced ({@link ReferenceSampler}): the same token every time. */
class SamplerAgainstReferenceTest {
    private static final int VOCAB = 32000;

    @Test
    void everyDrawMatchesTheReference() {
        SplittableRandom random = new SplittableRandom(20240607L);
        for (int c = 0; c < 400; c++) {
            int testCase = c;
            int n = switch (random.nextInt(4)) {
                case 0 -> 1 + random.nextInt(300);
                case 1 -> (int) Math.exp(random.nextDouble(Math.log(VOCAB)));
                default -> VOCAB;
            };
            int kind = random.nextInt(6);
            float[] logits = logits(random, n, kind);
            int[] topKs = {0, 1, 5, 50, n, n + 3};
            float topP = kind == 4 ? (1 + random.nextInt(8)) / 8f : switch (random.nextInt(4)) {
                case 0 -> 1f;
                case 1 -> 0.999f;
                default -> (float) random.nextDouble(0.1, 1);
            };
            SamplingParams p = new SamplingParams((float) random.nextDouble(0.1, 2), topP,
                    topKs[random.nextInt(topKs.length)], random.nextLong());
            for (int step = 0; step < 2; step++) {
                int at = step;
                assertEquals(ReferenceSampler.sample(logits, p, step), Sampler.sample(logits, p, step),
                        () -> "case " + testCase + ": n " + n + ", kind " + kind + ", " + p + ", step " + at);
            }
        }
    }

    /** Smooth, peaked, flat, tied, few-equal-survivors, and with infinities, NaN and signed zeros. */
    private static float[] logits(SplittableRandom random, int n, int kind) {
        float[] logits = new float[n];
        float scale = new float[] {0.01f, 1f, 4f, 20f}[random.nextInt(4)];
        for (int i = 0; i < n; i++) {
            double g = gaussian(random);
            logits[i] = switch (kind) {
                case 0 -> (float) (g * scale);
                case 1 -> random.nextInt(50) == 0 ? (float) (10 + 3 * g) : (float) g; // a few likely tokens
                case 2 -> random.nextBoolean() ? 0f : -0f; // all tied (-0 == 0)
                case 3 -> Math.round(g * 2) / 2f * scale; // many ties
                case 4 -> Float.NEGATIVE_INFINITY;
                default -> switch (random.nextInt(40)) {
                    case 0 -> Float.NEGATIVE_INFINITY;
                    case 1 -> -0f;
                    case 2 -> 0f;
                    case 3 -> random.nextInt(20) == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
                    default -> (float) g;
                };
            };
        }
        if (kind == 4) { // 1, 2, 4 or 8 equal survivors: top_p k/8 falls exactly on a cumulative mass
            int survivors = 1 << random.nextInt(4);
            for (int i = 0; i < survivors; i++) {
                logits[random.nextInt(n)] = 2f;
            }
        }
        return logits;
    }

    private static double gaussian(SplittableRandom random) {
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
