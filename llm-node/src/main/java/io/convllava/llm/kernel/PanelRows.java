package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.Widening.FLOATS;
import static io.convllava.llm.kernel.Widening.LANES;
import static io.convllava.llm.kernel.Widening.PAIRS;

import java.nio.ByteOrder;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * The inner loops of {@link HalfMatMul} over bf16 weights packed in panels ({@link HalfMatrix#packed}): a panel is
 * {@link #ROWS} weight rows, stored column pair by column pair, so one int vector load gives two neighbouring columns
 * of {@link Widening#LANES} rows and widening it gives those rows' weights for column 2j (one shift) and 2j+1 (one mask). Each
 * output is a single chain of FMAs over the columns in order, in one vector lane, whatever the tile: an input gets the
 * same bits alone or in a batch of any size, with no horizontal sums.
 *
 * <ul>
 *   <li>{@link #fourInputs}: one panel x four inputs (8 accumulators; per column pair two weight loads, four widenings,
 *       eight broadcasts, sixteen FMAs): batches, the panel staying in L2 while every group of four passes; a last
 *       group of two or three is padded.</li>
 *   <li>{@link #eightInputs}: one panel x two groups of four inputs (16 accumulators, with 512-bit vectors where 32
 *       registers hold them): the panel read once for eight inputs. A decode batch of a stage streams its weights from
 *       memory, and one core reads them only so fast (4-5 GB/s in a pass over a panel for four inputs on the AVX-512
 *       machine): a pass for eight doubles the arithmetic per byte read.</li>
 *   <li>{@link #oneInput}: two panels x one input (4 accumulators): batch 1 and a single input past the last group
 *       of four; bound by the weights' bytes. C2 (JDK 17) boxed the vectors of every larger or unrolled variant
 *       (four panels; two column pairs per pass) and of this loop too once it inlined it into its caller (at 315
 *       bytecodes, under FreqInlineSize): 4-9 GFLOP/s, a young collection every few calls. Its bounds checks at
 *       entry keep it above that size, so it is compiled on its own.</li>
 * </ul>
 */
final class PanelRows {
    /** Weight rows per panel: two vectors of lanes. */
    static final int ROWS = 2 * LANES;
    /** Inputs per {@link #fourInputs} tile. */
    static final int INPUTS = 4;
    /** Bytes of one column pair of a panel. */
    static final int PAIR_BYTES = 4 * ROWS;
    private static final int HALF = 4 * LANES; // bytes of a pair's first vector of rows

    private PanelRows() {
    }

    /**
     * y[i, 0..ROWS) = panel . x_i for inputs i = 0..3: the panel's bytes from {@code wo}, {@code pairs} column pairs;
     * the inputs packed [pairs][2][4] from {@code xo} (column 2j of input i at 8j + i, column 2j+1 at 8j + 4 + i);
     * y_i at yo + i * ldy, for the first {@code count} inputs (the others are padding).
     */
    static void fourInputs(byte[] w, int wo, int pairs, float[] xp, int xo, float[] y, int yo, int ldy, int count) {
        FloatVector c00 = FloatVector.zero(FLOATS);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        for (int j = 0; j < pairs; j++) {
            int at = wo + j * PAIR_BYTES;
            IntVector p0 = IntVector.fromByteArray(PAIRS, w, at, ByteOrder.LITTLE_ENDIAN);
            IntVector p1 = IntVector.fromByteArray(PAIRS, w, at + HALF, ByteOrder.LITTLE_ENDIAN);
            int xc = xo + j * 2 * INPUTS;
            FloatVector w0 = Widening.bf16Even(p0);
            FloatVector w1 = Widening.bf16Even(p1);
            FloatVector a = FloatVector.broadcast(FLOATS, xp[xc]);
            c00 = w0.fma(a, c00);
            c01 = w1.fma(a, c01);
            a = FloatVector.broadcast(FLOATS, xp[xc + 1]);
            c10 = w0.fma(a, c10);
            c11 = w1.fma(a, c11);
            a = FloatVector.broadcast(FLOATS, xp[xc + 2]);
            c20 = w0.fma(a, c20);
            c21 = w1.fma(a, c21);
            a = FloatVector.broadcast(FLOATS, xp[xc + 3]);
            c30 = w0.fma(a, c30);
            c31 = w1.fma(a, c31);
            w0 = Widening.bf16Odd(p0);
            w1 = Widening.bf16Odd(p1);
            a = FloatVector.broadcast(FLOATS, xp[xc + 4]);
            c00 = w0.fma(a, c00);
            c01 = w1.fma(a, c01);
            a = FloatVector.broadcast(FLOATS, xp[xc + 5]);
            c10 = w0.fma(a, c10);
            c11 = w1.fma(a, c11);
            a = FloatVector.broadcast(FLOATS, xp[xc + 6]);
            c20 = w0.fma(a, c20);
            c21 = w1.fma(a, c21);
            a = FloatVector.broadcast(FLOATS, xp[xc + 7]);
            c30 = w0.fma(a, c30);
            c31 = w1.fma(a, c31);
        }
        c00.intoArray(y, yo);
        c01.intoArray(y, yo + LANES);
        if (count > 1) {
            c10.intoArray(y, yo + ldy);
            c11.intoArray(y, yo + ldy + LANES);
        }
        if (count > 2) {
            c20.intoArray(y, yo + 2 * ldy);
            c21.intoArray(y, yo + 2 * ldy + LANES);
        }
        if (count > 3) {
            c30.intoArray(y, yo + 3 * ldy);
            c31.intoArray(y, yo + 3 * ldy + LANES);
        }
    }

    /**
     * {@link #fourInputs} for two groups of four inputs at once: the first group's inputs packed from {@code xa}, the
     * second's from {@code xb}, outputs y_i at yo + i * ldy for i = 0..3 and the second group's first {@code count}
     * at yo + (4 + i) * ldy. The same FMA chain per output as {@link #fourInputs}.
     */
    static void eightInputs(byte[] w, int wo, int pairs, float[] xp, int xa, int xb, float[] y, int yo, int ldy,
                            int count) {
        FloatVector c00 = FloatVector.zero(FLOATS);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        FloatVector c60 = c00;
        FloatVector c61 = c00;
        FloatVector c70 = c00;
        FloatVector c71 = c00;
        for (int j = 0; j < pairs; j++) {
            int at = wo + j * PAIR_BYTES;
            IntVector p0 = IntVector.fromByteArray(PAIRS, w, at, ByteOrder.LITTLE_ENDIAN);
            IntVector p1 = IntVector.fromByteArray(PAIRS, w, at + HALF, ByteOrder.LITTLE_ENDIAN);
            int a = xa + j * 2 * INPUTS;
            int b = xb + j * 2 * INPUTS;
            FloatVector w0 = Widening.bf16Even(p0);
            FloatVector w1 = Widening.bf16Even(p1);
            FloatVector s = FloatVector.broadcast(FLOATS, xp[a]);
            c00 = w0.fma(s, c00);
            c01 = w1.fma(s, c01);
            s = FloatVector.broadcast(FLOATS, xp[a + 1]);
            c10 = w0.fma(s, c10);
            c11 = w1.fma(s, c11);
            s = FloatVector.broadcast(FLOATS, xp[a + 2]);
            c20 = w0.fma(s, c20);
            c21 = w1.fma(s, c21);
            s = FloatVector.broadcast(FLOATS, xp[a + 3]);
            c30 = w0.fma(s, c30);
            c31 = w1.fma(s, c31);
            s = FloatVector.broadcast(FLOATS, xp[b]);
            c40 = w0.fma(s, c40);
            c41 = w1.fma(s, c41);
            s = FloatVector.broadcast(FLOATS, xp[b + 1]);
            c50 = w0.fma(s, c50);
            c51 = w1.fma(s, c51);
            s = FloatVector.broadcast(FLOATS, xp[b + 2]);
            c60 = w0.fma(s, c60);
            c61 = w1.fma(s, c61);
            s = FloatVector.broadcast(FLOATS, xp[b + 3]);
            c70 = w0.fma(s, c70);
            c71 = w1.fma(s, c71);
            w0 = Widening.bf16Odd(p0);
            w1 = Widening.bf16Odd(p1);
            s = FloatVector.broadcast(FLOATS, xp[a + 4]);
            c00 = w0.fma(s, c00);
            c01 = w1.fma(s, c01);
            s = FloatVector.broadcast(FLOATS, xp[a + 5]);
            c10 = w0.fma(s, c10);
            c11 = w1.fma(s, c11);
            s = FloatVector.broadcast(FLOATS, xp[a + 6]);
            c20 = w0.fma(s, c20);
            c21 = w1.fma(s, c21);
            s = FloatVector.broadcast(FLOATS, xp[a + 7]);
            c30 = w0.fma(s, c30);
            c31 = w1.fma(s, c31);
            s = FloatVector.broadcast(FLOATS, xp[b + 4]);
            c40 = w0.fma(s, c40);
            c41 = w1.fma(s, c41);
            s = FloatVector.broadcast(FLOATS, xp[b + 5]);
            c50 = w0.fma(s, c50);
            c51 = w1.fma(s, c51);
            s = FloatVector.broadcast(FLOATS, xp[b + 6]);
            c60 = w0.fma(s, c60);
            c61 = w1.fma(s, c61);
            s = FloatVector.broadcast(FLOATS, xp[b + 7]);
            c70 = w0.fma(s, c70);
            c71 = w1.fma(s, c71);
        }
        c00.intoArray(y, yo);
        c01.intoArray(y, yo + LANES);
        c10.intoArray(y, yo + ldy);
        c11.intoArray(y, yo + ldy + LANES);
        c20.intoArray(y, yo + 2 * ldy);
        c21.intoArray(y, yo + 2 * ldy + LANES);
        c30.intoArray(y, yo + 3 * ldy);
        c31.intoArray(y, yo + 3 * ldy + LANES);
        int second = yo + INPUTS * ldy;
        c40.intoArray(y, second);
        c41.intoArray(y, second + LANES);
        if (count > 1) {
            c50.intoArray(y, second + ldy);
            c51.intoArray(y, second + ldy + LANES);
        }
        if (count > 2) {
            c60.intoArray(y, second + 2 * ldy);
            c61.intoArray(y, second + 2 * ldy + LANES);
        }
        if (count > 3) {
            c70.intoArray(y, second + 3 * ldy);
            c71.intoArray(y, second + 3 * ldy + LANES);
        }
    }

    /**
     * y[0..2 ROWS) from yo = the two panels at {@code wo} and {@code wo + panelBytes} . x, x's 2 * pairs columns from
     * {@code xo} in their natural order; pairs is even.
     */
    static void oneInput(byte[] w, int wo, int panelBytes, int pairs, float[] x, int xo, float[] y, int yo) {
        // checked once here rather than per load, and they keep the method above C2's inlining size (see above)
        Objects.checkFromIndexSize(wo, 2 * panelBytes, w.length);
        Objects.checkFromIndexSize(xo, 2 * pairs, x.length);
        Objects.checkFromIndexSize(yo, 2 * ROWS, y.length);
        FloatVector c0 = FloatVector.zero(FLOATS);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        int wp = wo + panelBytes;
        for (int j = 0; j < pairs; j++) {
            int at = j * PAIR_BYTES;
            FloatVector even = FloatVector.broadcast(FLOATS, x[xo + 2 * j]);
            FloatVector odd = FloatVector.broadcast(FLOATS, x[xo + 2 * j + 1]);
            IntVector p = IntVector.fromByteArray(PAIRS, w, wo + at, ByteOrder.LITTLE_ENDIAN);
            c0 = Widening.bf16Odd(p).fma(odd, Widening.bf16Even(p).fma(even, c0));
            p = IntVector.fromByteArray(PAIRS, w, wo + at + HALF, ByteOrder.LITTLE_ENDIAN);
            c1 = Widening.bf16Odd(p).fma(odd, Widening.bf16Even(p).fma(even, c1));
            p = IntVector.fromByteArray(PAIRS, w, wp + at, ByteOrder.LITTLE_ENDIAN);
            c2 = Widening.bf16Odd(p).fma(odd, Widening.bf16Even(p).fma(even, c2));
            p = IntVector.fromByteArray(PAIRS, w, wp + at + HALF, ByteOrder.LITTLE_ENDIAN);
            c3 = Widening.bf16Odd(p).fma(odd, Widening.bf16Even(p).fma(even, c3));
        }
        c0.intoArray(y, yo);
        c1.intoArray(y, yo + LANES);
        c2.intoArray(y, yo + ROWS);
        c3.intoArray(y, yo + ROWS + LANES);
    }
}
