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
    /**
     * Lanes per vector, as a constant: loops stepping by it run ~10% faster than loops stepping by
     * {@code PAIRS.length()} (C2, JDK 17).
     */
    static final int LANES = PAIRS.length();

    private Widening() {
    }

    /** The even columns (low halves) of bf16 pairs: bf16 is the top half of a float32. */
    static FloatVector bf16Even(IntVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** The odd columns (high halves) of bf16 pairs. */
    static FloatVector bf16Odd(IntVector pairs) {
        return pairs.and(0xFFFF0000).reinterpretAsFloats();
    }

    /** The even columns of fp16 pairs. */
    static FloatVector fp16Even(IntVector pairs) {
        return fp16Top(pairs.lanewise(VectorOperators.LSHL, 16));
    }

    /** The odd columns of fp16 pairs. */
    static FloatVector fp16Odd(IntVector pairs) {
        return fp16Top(pairs.and(0xFFFF0000));
    }

    /**
     * fp16 bits in the top half of each lane (low half zero) to float32: exponent and mantissa shifted into float32
     * position read as a float whose exponent is 112 too small, scaled by 2^112 (exact, subnormals included); fp16
     * exponent 31 (infinity, NaN) gets the all-ones float32 exponent, from a mask that adding 0x70800000 carries into
     * the sign bit; then the sign. No lane masks or blends: they made C2's graph too large to inline the loop (the
     * vectors were boxed: 16x slower).
     */
    private static FloatVector fp16Top(IntVector top) {
        IntVector magnitude = top.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000); // (h & 0x7FFF) << 13
        IntVector finite = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector special = magnitude.add(0x70800000).lanewise(VectorOperators.ASHR, 31).and(0x7F800000);
        return finite.or(special).or(top.and(0x80000000)).reinterpretAsFloats();
    }
}
