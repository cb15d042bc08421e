package io.convllava.llm.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * e^x in float32 from IEEE-exact operations only (multiply, add, fused multiply-add, integer add and shift),
 * on vector lanes and, with the same steps, for single floats. The Vector API's own {@code lanewise(EXP)} gives
 * different bits before and after C2 compiles it (a library call against the interpreter's {@code StrictMath}), and a
 * session must get the same tokens whenever it runs; {@code Math.exp} per element is exact but scalar. Range reduction
 * by ln 2 in two parts, then Cephes' degree-6 polynomial for {@code expf}: within 2 ulp of e^x. Inputs are clamped to
 * [-87.3, 88]: far below, the result is about 1.2e-38 (the smallest normal floats) instead of 0 or a subnormal.
 */
public final class FastExp {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float LO = -87.3f;
    private static final float HI = 88.0f;
    /** 1.5 x 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private FastExp() {
    }

    /** e^x for every lane. */
    public static FloatVector exp(FloatVector x) {
        VectorSpecies<Float> f = x.species();
        x = x.max(LO).min(HI);
        FloatVector shifted = x.mul(LOG2E).add(ROUND); // ROUND + n: n sits in the low bits of the mantissa
        FloatVector n = shifted.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(f, -LN2_HI), x).add(n.mul(-LN2_LO)); // x - n ln2, in two parts
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(f, P2));
        p = p.fma(r, FloatVector.broadcast(f, P3));
        p = p.fma(r, FloatVector.broadcast(f, P4));
        p = p.fma(r, FloatVector.broadcast(f, P5));
        FloatVector e = p.mul(r.mul(r)).add(r).add(1f);
        // 2^n from the bits of ROUND + n (a float-to-int conversion is not compiled to vector code on every CPU)
        IntVector scale = shifted.reinterpretAsInts().sub(ROUND_BITS - 127)
                .lanewise(VectorOperators.LSHL, 23);
        return e.mul(scale.reinterpretAsFloats());
    }

    /** e^x for one float: the same steps as a lane of {@link #exp(FloatVector)}, so the same bits. */
    public static float exp(float x) {
        x = Math.min(Math.max(x, LO), HI);
        float shifted = x * LOG2E + ROUND;
        float n = shifted - ROUND;
        float r = Math.fma(n, -LN2_HI, x) + n * -LN2_LO;
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P0, P1), r, P2), r, P3), r, P4), r, P5);
        float e = p * (r * r) + r + 1f;
        return e * Float.intBitsToFloat((Float.floatToRawIntBits(shifted) - (ROUND_BITS - 127)) << 23);
    }
}
