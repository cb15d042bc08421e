package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.Widening.FLOATS;
import static io.convllava.llm.kernel.Widening.LANES;
import static io.convllava.llm.kernel.Widening.PAIRS;

import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The inner loops of {@link HalfMatMul} over bf16 weights in a heap array: the whole-vector part of the dot products of
 * four weight rows (starting at bytes w0..w3 of {@code w}) with one or two inputs split into even and odd columns
 * ({@code split}: per input [2, pairs], even columns first). Each weight vector is loaded and widened once and applied
 * to every input while in registers; one accumulator per (row, input), each taking the even then the odd product.
 * {@link BufferRows} is the same over a ByteBuffer; this one is about twice as fast per core (JDK 17).
 *
 * <p>Four rows is as many as C2 (JDK 17) compiles without boxing the vectors: eight rows ran 6x slower.
 */
final class HeapRows {
    private HeapRows() {
    }

    /** sums[k] = the vector part of row k . input 0, k = 0..3. */
    static void fourRowsOneInput(byte[] w, int w0, int w1, int w2, int w3, float[] split, int pairs,
                                 float[] sums) {
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector a1 = FloatVector.zero(FLOATS);
        FloatVector a2 = FloatVector.zero(FLOATS);
        FloatVector a3 = FloatVector.zero(FLOATS);
        for (int j = 0; j < pairs; j += LANES) {
            FloatVector xe = FloatVector.fromArray(FLOATS, split, j);
            FloatVector xo = FloatVector.fromArray(FLOATS, split, pairs + j);
            IntVector p0 = IntVector.fromByteArray(PAIRS, w, w0 + 4 * j, ByteOrder.LITTLE_ENDIAN);
            IntVector p1 = IntVector.fromByteArray(PAIRS, w, w1 + 4 * j, ByteOrder.LITTLE_ENDIAN);
            IntVector p2 = IntVector.fromByteArray(PAIRS, w, w2 + 4 * j, ByteOrder.LITTLE_ENDIAN);
            IntVector p3 = IntVector.fromByteArray(PAIRS, w, w3 + 4 * j, ByteOrder.LITTLE_ENDIAN);
            a0 = Widening.bf16Odd(p0).fma(xo, Widening.bf16Even(p0).fma(xe, a0));
            a1 = Widening.bf16Odd(p1).fma(xo, Widening.bf16Even(p1).fma(xe, a1));
            a2 = Widening.bf16Odd(p2).fma(xo, Widening.bf16Even(p2).fma(xe, a2));
            a3 = Widening.bf16Odd(p3).fma(xo, Widening.bf16Even(p3).fma(xe, a3));
        }
        sums[0] = a0.reduceLanes(VectorOperators.ADD);
        sums[1] = a1.reduceLanes(VectorOperators.ADD);
        sums[2] = a2.reduceLanes(VectorOperators.ADD);
        sums[3] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** sums[4 * i + k] = the vector part of row k . input i, k = 0..3, i = 0..1; input 0's split starts at x0. */
    static void fourRowsTwoInputs(byte[] w, int w0, int w1, int w2, int w3, float[] split, int x0,
                                  int pairs, float[] sums) {
        int x1 = x0 + 2 * pairs;
        FloatVector a00 = FloatVector.zero(FLOATS);
        FloatVector a01 = FloatVector.zero(FLOATS);
        FloatVector a10 = FloatVector.zero(FLOATS);
        FloatVector a11 = FloatVector.zero(FLOATS);
        FloatVector a20 = FloatVector.zero(FLOATS);
        FloatVector a21 = FloatVector.zero(FLOATS);
        FloatVector a30 = FloatVector.zero(FLOATS);
        FloatVector a31 = FloatVector.zero(FLOATS);
        for (int j = 0; j < pairs; j += LANES) {
            FloatVector xe0 = FloatVector.fromArray(FLOATS, split, x0 + j);
            FloatVector xo0 = FloatVector.fromArray(FLOATS, split, x0 + pairs + j);
            FloatVector xe1 = FloatVector.fromArray(FLOATS, split, x1 + j);
            FloatVector xo1 = FloatVector.fromArray(FLOATS, split, x1 + pairs + j);
            IntVector p = IntVector.fromByteArray(PAIRS, w, w0 + 4 * j, ByteOrder.LITTLE_ENDIAN);
            FloatVector e = Widening.bf16Even(p);
            FloatVector o = Widening.bf16Odd(p);
            a00 = o.fma(xo0, e.fma(xe0, a00));
            a01 = o.fma(xo1, e.fma(xe1, a01));
            p = IntVector.fromByteArray(PAIRS, w, w1 + 4 * j, ByteOrder.LITTLE_ENDIAN);
            e = Widening.bf16Even(p);
            o = Widening.bf16Odd(p);
            a10 = o.fma(xo0, e.fma(xe0, a10));
            a11 = o.fma(xo1, e.fma(xe1, a11));
            p = IntVector.fromByteArray(PAIRS, w, w2 + 4 * j, ByteOrder.LITTLE_ENDIAN);
            e = Widening.bf16Even(p);
            o = Widening.bf16Odd(p);
            a20 = o.fma(xo0, e.fma(xe0, a20));
            a21 = o.fma(xo1, e.fma(xe1, a21));
            p = IntVector.fromByteArray(PAIRS, w, w3 + 4 * j, ByteOrder.LITTLE_ENDIAN);
            e = Widening.bf16Even(p);
            o = Widening.bf16Odd(p);
            a30 = o.fma(xo0, e.fma(xe0, a30));
            a31 = o.fma(xo1, e.fma(xe1, a31));
        }
        sums[0] = a00.reduceLanes(VectorOperators.ADD);
        sums[1] = a10.reduceLanes(VectorOperators.ADD);
        sums[2] = a20.reduceLanes(VectorOperators.ADD);
        sums[3] = a30.reduceLanes(VectorOperators.ADD);
        sums[4] = a01.reduceLanes(VectorOperators.ADD);
        sums[5] = a11.reduceLanes(VectorOperators.ADD);
        sums[6] = a21.reduceLanes(VectorOperators.ADD);
        sums[7] = a31.reduceLanes(VectorOperators.ADD);
    }
}
