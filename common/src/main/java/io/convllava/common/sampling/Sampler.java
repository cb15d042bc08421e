package io.convllava.common.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token. Stateless: the random draw of step {@code n} depends only on (seed, n), so a session
 * replayed on another pipeline, or sampled on the last pipeline stage instead of the coordinator, gets the same
 * tokens.
 *
 * <p>The result is defined by a plain recipe: sort the token ids by descending logit (ties by lower id), keep the
 * top k, softmax them in double in that order, cut at the smallest prefix whose mass reaches top_p, draw. That recipe
 * is followed bit for bit without sorting the vocabulary: top-k selects its k candidates with a bounded heap. Over
 * the whole vocabulary, the recipe's sorted-order sum is replaced by an any-order sum, which differs from it by at
 * most a rounding bound proportional to the vocabulary size, and the top_p cut (or, without top_p, the draw) is
 * decided on a growing top-m prefix when it lies farther than that bound from its threshold; otherwise the whole
 * vocabulary is sorted after all.
 */
public final class Sampler {
    private static final int FIRST_PREFIX = 64;

    /** Work arrays of the calling thread, grown to the largest candidate set it has needed. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Sampler() {
    }

    public static int sample(float[] logits, SamplingParams p, int step) {
        if (p.greedy()) {
            return argMax(logits);
        }
        double r = new SplittableRandom(mix(p.seed(), step)).nextDouble();
        Scratch s = SCRATCH.get();
        int n = logits.length;
        if (p.topK() > 0 && p.topK() < n) {
            s.top(logits, p.topK());
            return exact(logits, s, p.topK(), p, r);
        }
        return n / 4 > FIRST_PREFIX ? wholeVocabulary(logits, s, p, r) : exactOverAll(logits, s, p, r);
    }

    public static int argMax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Every token a candidate: decided on the top-m prefix (m = 64, then at least four times more each round) while
     * the rounding bound allows and m is at most a quarter of the vocabulary; else on the sorted vocabulary.
     */
    private static int wholeVocabulary(float[] logits, Scratch s, SamplingParams p, double r) {
        int n = logits.length;
        float t = p.temperature();
        s.top(logits, FIRST_PREFIX);
        double max = logits[s.ids[0]] / t;
        double total = 0;
        for (float logit : logits) {
            total += Math.exp(logit / t - max);
        }
        if (!Double.isFinite(total)) { // infinite or NaN logits: only the recipe itself says what happens
            return exactOverAll(logits, s, p, r);
        }
        // Two sums of the same n non-negative terms in different orders differ by at most 2(n - 1) * 2^-53 of
        // the total; with the roundings of the prefix loops, a recipe value (cumulative mass, or what is left of
        // the draw) and its estimate here differ by less than (4n + 8) * 2^-53 of the total. Four times that:
        double eps = (16.0 * n + 128) * 0x1p-53;
        int m = FIRST_PREFIX;
        while (true) {
            double[] probs = s.probs;
            double mass = 0; // of the prefix, as a fraction of the total
            if (p.topP() < 1f) {
                for (int i = 0; i < m; i++) {
                    probs[i] = Math.exp(logits[s.ids[i]] / t - max);
                    mass += probs[i] / total;
                    if (mass >= p.topP() + eps) {
                        return draw(s, i + 1, r);
                    }
                    if (mass > p.topP() - eps) {
                        return exactOverAll(logits, s, p, r);
                    }
                }
            } else {
                double tolerance = eps * total;
                double u = r * total;
                for (int i = 0; i < m; i++) {
                    double prob = Math.exp(logits[s.ids[i]] / t - max);
                    u -= prob;
                    mass += prob;
                    if (u < -tolerance) {
                        return s.ids[i];
                    }
                    if (u <= tolerance) {
                        return exactOverAll(logits, s, p, r);
                    }
                }
                mass /= total;
            }
            // the other tokens are no likelier than the prefix's average: the target mass needs at least this many
            double needed = m * (p.topP() < 1f ? p.topP() : r) / mass;
            m = (int) Math.min(n, Math.max(4.0 * m, needed));
            if (m > n / 4) {
                return exactOverAll(logits, s, p, r);
            }
            s.top(logits, m);
        }
    }

    private static int exactOverAll(float[] logits, Scratch s, SamplingParams p, double r) {
        s.top(logits, logits.length);
        return exact(logits, s, logits.length, p, r);
    }

    /** The recipe over the candidates {@code s.ids[0, m)}, best first: softmax, top_p cut, draw. */
    private static int exact(float[] logits, Scratch s, int m, SamplingParams p, double r) {
        int[] ids = s.ids;
        double[] probs = s.probs;
        double max = logits[ids[0]] / p.temperature();
        double sum = 0;
        for (int i = 0; i < m; i++) {
            probs[i] = Math.exp(logits[ids[i]] / p.temperature() - max);
            sum += probs[i];
        }
        int keep = m;
        if (p.topP() < 1f) {
            double cumulative = 0;
            for (int i = 0; i < m; i++) {
                cumulative += probs[i] / sum;
                if (cumulative >= p.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        return draw(s, keep, r);
    }

    /** Draws from the candidates {@code s.ids[0, keep)} with weights {@code s.probs[0, keep)}. */
    private static int draw(Scratch s, int keep, double r) {
        double kept = 0;
        for (int i = 0; i < keep; i++) {
            kept += s.probs[i];
        }
        double u = r * kept;
        for (int i = 0; i < keep; i++) {
            u -= s.probs[i];
            if (u < 0) {
                return s.ids[i];
            }
        }
        return s.ids[keep - 1];
    }

    private static long mix(long seed, int step) {
        long z = seed * 0x9E3779B97F4A7C15L + step;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static final class Scratch {
        long[] keys = new long[0];
        int[] ids = new int[0];
        double[] probs = new double[0];

        /** {@code ids[0, m)}: the m best token ids, best first: descending logit, ties by lower id. */
        void top(float[] logits, int m) {
            if (keys.length < m) {
                keys = new long[m];
                ids = new int[m];
                probs = new double[m];
            }
            for (int i = 0; i < m; i++) {
                keys[i] = key(logits[i], i);
            }
            if (m < logits.length) { // keep the m smallest keys in a max-heap
                for (int i = m / 2 - 1; i >= 0; i--) {
                    siftDown(keys, i, m);
                }
                float worst = logits[(int) keys[0]];
                for (int i = m; i < logits.length; i++) {
                    if (logits[i] < worst) { // cannot beat the worst kept (false for NaN, and for -0 against 0)
                        continue;
                    }
                    long key = key(logits[i], i);
                    if (key < keys[0]) {
                        keys[0] = key;
                        siftDown(keys, 0, m);
                        worst = logits[(int) keys[0]];
                    }
                }
            }
            Arrays.sort(keys, 0, m);
            for (int i = 0; i < m; i++) {
                ids[i] = (int) keys[i];
            }
        }

        /**
         * Ascending keys = the recipe's order: the logit's bits made order-preserving as a signed int (-0 as 0,
         * NaN above +infinity, as the boxed comparison had them) and inverted, then the id.
         */
        private static long key(float logit, int id) {
            int bits = Float.floatToIntBits(logit == 0f ? 0f : logit);
            int ascending = bits ^ ((bits >> 31) & 0x7fffffff);
            return ((long) ~ascending << 32) | id;
        }

        private static void siftDown(long[] heap, int i, int size) {
            long x = heap[i];
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && heap[child + 1] > heap[child]) {
                    child++;
                }
                if (heap[child] <= x) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = x;
        }
    }
}
