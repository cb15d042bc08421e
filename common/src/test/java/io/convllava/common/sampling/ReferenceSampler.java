package io.convllava.common.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The sampler as it was before partial selection (boxed full sort of the vocabulary): the oracle {@link Sampler}
 * must match token for token.
 */
final class ReferenceSampler {
    private ReferenceSampler() {
    }

    static int sample(float[] logits, SamplingParams p, int step) {
        if (p.greedy()) {
            return argMax(logits);
        }
        Integer[] order = candidates(logits, p.topK());
        // softmax over the candidates at this temperature (in double, max-subtracted)
        double max = logits[order[0]] / p.temperature();
        double[] probs = new double[order.length];
        double sum = 0;
        for (int i = 0; i < order.length; i++) {
            probs[i] = Math.exp(logits[order[i]] / p.temperature() - max);
            sum += probs[i];
        }
        int keep = order.length;
        if (p.topP() < 1f) {
            double cumulative = 0;
            for (int i = 0; i < order.length; i++) {
                cumulative += probs[i] / sum;
                if (cumulative >= p.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        double kept = 0;
        for (int i = 0; i < keep; i++) {
            kept += probs[i];
        }
        double u = new SplittableRandom(mix(p.seed(), step)).nextDouble() * kept;
        for (int i = 0; i < keep; i++) {
            u -= probs[i];
            if (u < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    static int argMax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Token ids sorted by descending logit (ties by id), limited to the top k when k > 0. */
    private static Integer[] candidates(float[] logits, int topK) {
        Integer[] ids = new Integer[logits.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        Arrays.sort(ids, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        return topK > 0 && topK < ids.length ? Arrays.copyOf(ids, topK) : ids;
    }

    private static long mix(long seed, int step) {
        long z = seed * 0x9E3779B97F4A7C15L + step;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
