package io.convllava.llm.cpu;

import io.convllava.llm.kernel.FastExp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The few float32 vector loops of a decoder step, on the machine's widest vectors. */
final class VectorMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {
    }

    /** sum_i a[aOff + i] * b[bOff + i] for i in [0, n). */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /**
     * out[outOff + i] = silu(gate) * up = gate / (1 + exp(-gate)) * up, for gate = x[gateOff + i], up = x[upOff + i].
     * exp by {@link FastExp}, which gives the same bits in every compilation tier: the Vector API's lane-wise EXP gives
     * other roundings once C2 compiles it than before, so results would depend on how warm the JVM is. {@code out} may
     * be {@code x} with outOff <= gateOff and [outOff, outOff + n) clear of the up values: each element is read before
     * it is written.
     */
    static void swiGlu(float[] x, int gateOff, int upOff, float[] out, int outOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, x, gateOff + i);
            FloatVector up = FloatVector.fromArray(F, x, upOff + i);
            g.div(FastExp.exp(g.neg()).add(1f)).mul(up).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            float g = x[gateOff + i];
            out[outOff + i] = g / (1f + FastExp.exp(-g)) * x[upOff + i];
        }
    }

    /** y[i] += x[i] for i in [0, n). */
    static void add(float[] x, float[] y, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, i).add(FloatVector.fromArray(F, y, i)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] += x[i];
        }
    }
}
