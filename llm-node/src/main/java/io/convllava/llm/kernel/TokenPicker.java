package io.convllava.llm.kernel;

import io.convllava.common.sampling.Sampler;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Sampler#argMax} on vector lanes, for greedy picks: the scalar argmax over a 32000-token vocabulary is a
 * compare per logit, which the last stage of a pipeline pays for every token of every session.
 */
public final class TokenPicker {
    private TokenPicker() {
    }

    /**
     * {@link Sampler#argMax}: the first index of the largest logit. The maximum is found on vector lanes (exact in
     * any order), then its first index; a NaN anywhere leaves it to {@link Sampler#argMax}, which skips NaNs.
     */
    public static int argMax(float[] logits) {
        return argMax(logits, 0, logits.length);
    }

    /** {@link #argMax(float[])} of logits[from, from + n), as an index from {@code from}. */
    public static int argMax(float[] logits, int from, int n) {
        Objects.checkFromIndexSize(from, n, logits.length);
        VectorSpecies<Float> f = Widening.FLOATS;
        int lanes = Widening.LANES;
        FloatVector m0 = FloatVector.broadcast(f, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        FloatVector m2 = m0;
        FloatVector m3 = m0;
        int i = 0;
        for (int bound = n - n % (4 * lanes); i < bound; i += 4 * lanes) { // four chains: a maximum's latency
            m0 = m0.max(FloatVector.fromArray(f, logits, from + i));
            m1 = m1.max(FloatVector.fromArray(f, logits, from + i + lanes));
            m2 = m2.max(FloatVector.fromArray(f, logits, from + i + 2 * lanes));
            m3 = m3.max(FloatVector.fromArray(f, logits, from + i + 3 * lanes));
        }
        float best = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            best = Math.max(best, logits[from + i]);
        }
        if (Float.isNaN(best)) {
            return Sampler.argMax(Arrays.copyOfRange(logits, from, from + n));
        }
        int j = 0;
        for (int bound = f.loopBound(n); j < bound; j += lanes) { // -0.0 == 0.0, as Sampler's comparison takes them
            int lane = FloatVector.fromArray(f, logits, from + j).compare(VectorOperators.EQ, best).firstTrue();
            if (lane < lanes) {
                return j + lane;
            }
        }
        for (; j < n; j++) {
            if (logits[from + j] == best) {
                return j;
            }
        }
        return 0; // an empty vocabulary
    }
}
