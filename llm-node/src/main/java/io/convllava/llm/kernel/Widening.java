package io.convllava.llm.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * 16-bit floats to float32 lanes, a vector at a time. Weights are loaded as little-endian ints, each holding two
 * neighbouring columns: 2j in the low half, 2j+1 in the high half. Moving a half to the top 16 bits of its lane is one
 * shift (even columns) or one mask (odd columns), so a load of L ints yields the L even and the L odd columns as two
 * float vectors with no lane shuffles; the kernels pair them with the input split the same way.
 */
final class Widening {
    /** The widest float vector this CPU runs natively (8 lanes with AVX2, 16 with AVX-512), chosen at run time. */
    static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    /** Ints of the same width: each lane holds two 16-bit columns. */
    static final VectorSpecies<Integer> PAIRS = FLOATS.withLanes(int.class);

    private Widening() {
    }

    /** The even columns (low halves) of the pairs, as float32. */
    static FloatVector even(IntVector pairs, boolean fp16) {
        IntVector top = pairs.lanewise(VectorOperators.LSHL, 16);
        return fp16 ? fp16ToFloat(top) : top.reinterpretAsFloats();
    }

    /** The odd columns (high halves) of the pairs, as float32. */
    static FloatVector odd(IntVector pairs, boolean fp16) {
        IntVector top = pairs.and(0xFFFF0000);
        return fp16 ? fp16ToFloat(top) : top.reinterpretAsFloats();
    }

    /**
     * fp16 bits held in the top half of each lane (low half zero) to float32: exponent and mantissa shifted into
     * float32 position read as a float whose exponent is 112 too small, scaled by 2^112 (exact, subnormals included);
     * infinities and NaNs (fp16 exponent 31) get the all-ones float32 exponent instead; then the sign.
     */
    private static FloatVector fp16ToFloat(IntVector top) {
        IntVector magnitude = top.and(0x7FFF0000).lanewise(VectorOperators.LSHR, 3); // (h & 0x7FFF) << 13
        FloatVector finite = magnitude.reinterpretAsFloats().mul(0x1p112f);
        IntVector special = magnitude.or(0x7F800000);
        IntVector bits = finite.reinterpretAsInts()
                .blend(special, magnitude.compare(VectorOperators.GE, 0x1F << 23))
                .or(top.and(0x80000000));
        return bits.reinterpretAsFloats();
    }
}
