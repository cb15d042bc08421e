package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.Widening.FLOATS;
import static io.convllava.llm.kernel.Widening.LANES;
import static io.convllava.llm.kernel.Widening.PAIRS;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The inner loops of {@link HalfMatMul} over fp16 weights, a row at a time: the row's whole-vector part is widened once
 * into float32 [2, pairs] (even columns, then odd: the layout of the split inputs), then applied to every input. The
 * extra pass through L1 makes it slower than the bf16 loops, and simpler: widening fp16 takes several vector
 * operations, and four rows of them in one loop are more than C2 (JDK 17) inlines. Released checkpoints are bf16.
 */
final class Fp16Rows {
    private Fp16Rows() {
    }

    /** row [2, pairs] = the vector part of the fp16 row starting at byte {@code from} of {@code w}, as float32. */
    static void widen(ByteBuffer w, int from, int pairs, float[] row) {
        for (int j = 0; j < pairs; j += LANES) {
            IntVector p = IntVector.fromByteBuffer(PAIRS, w, from + 4 * j, ByteOrder.LITTLE_ENDIAN);
            Widening.fp16Even(p).intoArray(row, j);
            Widening.fp16Odd(p).intoArray(row, pairs + j);
        }
    }

    /** The vector part of row . input, the input's split [2, pairs] starting at x0. */
    static float dot(float[] row, float[] split, int x0, int pairs) {
        FloatVector even = FloatVector.zero(FLOATS);
        FloatVector odd = FloatVector.zero(FLOATS);
        for (int j = 0; j < pairs; j += LANES) {
            even = FloatVector.fromArray(FLOATS, row, j).fma(FloatVector.fromArray(FLOATS, split, x0 + j), even);
            odd = FloatVector.fromArray(FLOATS, row, pairs + j)
                    .fma(FloatVector.fromArray(FLOATS, split, x0 + pairs + j), odd);
        }
        return even.add(odd).reduceLanes(VectorOperators.ADD);
    }
}
