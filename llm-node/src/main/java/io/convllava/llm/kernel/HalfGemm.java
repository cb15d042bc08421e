package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.Widening.FLOATS;
import static io.convllava.llm.kernel.Widening.LANES;
import static io.convllava.llm.kernel.Widening.PAIRS;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedQueue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * y = x W^T for many rows of x (prompt chunks, large batches) on 16-bit weights, as a packed matrix product: compute
 * bound, so the weights are widened once per block into a float32 panel that every row then reuses from cache, and the
 * arithmetic is an outer-product register tile (the layout of BLAS kernels such as BLIS's).
 *
 * <ul>
 *   <li>x is first copied into blocks of {@value #KC} columns, each [row groups][KC][{@link #MR}]: a tile's inputs at
 *       one column are then MR neighbouring floats (read from MR rows of x, K floats apart, the same product ran
 *       1.3x slower: the rows fall into the same cache sets).</li>
 *   <li>Output features are split into tasks of {@value #PANELS_PER_TASK} panels of {@link #NR} features (two float
 *       vectors), handed out on the kernel's {@link ChunkPool}.</li>
 *   <li>A task walks the depth in blocks of KC columns: it widens its [features, KC] weights into panels [KC, NR]
 *       (k-major: one load gives NR features of one column), then, for blocks of {@value #MC} rows of x (kept in L2),
 *       runs every panel (kept in L1) over the block's rows.</li>
 *   <li>The register tile is MR rows x NR features, per column two panel loads, MR broadcasts of x and 2 MR FMAs.
 *       With AVX2's 16 vector registers MR is 4 (8 accumulators, about 90% of the FMA peak when its operands are in
 *       L1; six rows ran at half the speed: C2 (JDK 17) spills them); with AVX-512's 32, MR is 8 (16 accumulators, no
 *       spills in C2's loop; prompts ran 1.15-1.25x faster than with 4 rows on the same machine).</li>
 * </ul>
 *
 * Sums run over the columns in order within a block and block after block, in float32: the same value as any other
 * float32 product up to summation order.
 */
final class HalfGemm {
    /**
     * Rows of x per register tile: 8 with 512-bit vectors (AVX-512 has 32 vector registers: 16 accumulators, two
     * panel vectors and a broadcast fit), else 4 (16 registers: C2 spilled a larger tile).
     */
    static final int MR = LANES >= 16 ? 8 : 4;
    /** Output features per panel: two float vectors. */
    static final int NR = 2 * LANES;
    /** Columns per packed block: a panel is KC x NR floats (16 KiB with AVX2, 32 KiB with AVX-512), in L1. */
    static final int KC = 256;
    /** Rows of x per pass over the panels: MC x KC floats (128 KiB) stay in L2. */
    static final int MC = 128;
    /** Panels per task. */
    static final int PANELS_PER_TASK = 8;
    private static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class,
            ByteOrder.LITTLE_ENDIAN);

    /** Packed panels, one per thread in flight; a task takes one and gives it back. */
    private final ConcurrentLinkedQueue<float[]> scratch = new ConcurrentLinkedQueue<>();
    /** x packed by {@link #packInput}; grows to the largest input. */
    private float[] packedInput = new float[0];

    /**
     * y[b, r] = sum_c x[b, c] * w[r, c] for b in [0, rows), on {@code pool}'s threads. Calls take turns.
     *
     * @param x [rows, w.cols()] row-major
     * @param y [rows, w.rows()] row-major, overwritten
     */
    synchronized void multiply(ChunkPool pool, HalfMatrix w, float[] x, int rows, float[] y) {
        int features = w.rows();
        int groups = (rows + MR - 1) / MR;
        if (packedInput.length < groups * MR * w.cols()) {
            packedInput = new float[groups * MR * w.cols()];
        }
        float[] xp = packInput(x, rows, w.cols(), packedInput);
        int perTask = PANELS_PER_TASK * NR;
        int tasks = (features + perTask - 1) / perTask;
        pool.run(tasks, (long) rows * features * w.cols(), task -> {
            float[] packed = scratch.poll();
            if (packed == null) {
                packed = new float[PANELS_PER_TASK * NR * KC];
            }
            try {
                features(w, xp, rows, y, task * perTask, Math.min(features, (task + 1) * perTask), packed);
            } finally {
                scratch.offer(packed);
            }
        });
    }

    /**
     * x [rows, k] into {@code xp} as blocks of KC columns, each [row groups of MR][kc][MR] (rows past the last are
     * zero): block kb (its first column) starts at kb * groups * MR.
     */
    private static float[] packInput(float[] x, int rows, int k, float[] xp) {
        int groups = (rows + MR - 1) / MR;
        for (int kb = 0; kb < k; kb += KC) {
            int kc = Math.min(KC, k - kb);
            for (int g = 0; g < groups; g++) {
                int base = kb * groups * MR + g * MR * kc;
                for (int i = 0; i < MR; i++) {
                    int r = g * MR + i;
                    if (r >= rows) {
                        for (int c = 0; c < kc; c++) {
                            xp[base + c * MR + i] = 0f;
                        }
                        continue;
                    }
                    int from = r * k + kb;
                    for (int c = 0; c < kc; c++) {
                        xp[base + c * MR + i] = x[from + c];
                    }
                }
            }
        }
        return xp;
    }

    /** Output features [n0, n1) of every row, from the packed input xp. */
    private static void features(HalfMatrix w, float[] xp, int rows, float[] y, int n0, int n1, float[] packed) {
        int k = w.cols();
        int n = w.rows();
        int groups = (rows + MR - 1) / MR;
        int panels = (n1 - n0 + NR - 1) / NR;
        float[] edge = null; // an MR x NR tile for a last panel narrower than NR or a last group shorter than MR
        for (int kb = 0; kb < k; kb += KC) {
            int kc = Math.min(KC, k - kb);
            boolean first = kb == 0;
            pack(w, n0, n1, kb, kc, packed);
            for (int gb = 0; gb < groups; gb += MC / MR) {
                int ge = Math.min(groups, gb + MC / MR);
                for (int panel = 0; panel < panels; panel++) {
                    int f = n0 + panel * NR;
                    int width = Math.min(NR, n1 - f);
                    int p = panel * kc * NR;
                    for (int g = gb; g < ge; g++) {
                        int r = g * MR;
                        int xo = kb * groups * MR + g * MR * kc;
                        if (width == NR && r + MR <= rows) {
                            tile(xp, xo, packed, p, kc, y, r * n + f, n, first);
                        } else {
                            if (edge == null) {
                                edge = new float[MR * NR];
                            }
                            tile(xp, xo, packed, p, kc, edge, 0, NR, true);
                            addEdge(edge, Math.min(MR, rows - r), width, y, r * n + f, n, first);
                        }
                    }
                }
            }
        }
    }

    /** y[i, j] (+)= edge[i, j] for the first {@code width} features of {@code rows} rows. */
    private static void addEdge(float[] edge, int rows, int width, float[] y, int yo, int ldy, boolean first) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < width; j++) {
                y[yo + i * ldy + j] = first ? edge[i * NR + j] : y[yo + i * ldy + j] + edge[i * NR + j];
            }
        }
    }

    /**
     * Weights [n0, n1) x [kb, kb + kc) into panels: panel q holds features n0 + q NR + j, j < NR, as
     * packed[q kc NR + c NR + j] for column kb + c; features past n1 are zero.
     */
    private static void pack(HalfMatrix w, int n0, int n1, int kb, int kc, float[] packed) {
        if (w.panels()) {
            packPanels(w, n0, n1, kb, kc, packed);
            return;
        }
        int k = w.cols();
        byte[] heap = w.heapArray();
        boolean bf16 = w.type() == HalfType.BF16;
        int panels = (n1 - n0 + NR - 1) / NR;
        for (int panel = 0; panel < panels; panel++) {
            int base = panel * kc * NR;
            for (int j = 0; j < NR; j++) {
                int row = n0 + panel * NR + j;
                if (row >= n1) {
                    for (int c = 0; c < kc; c++) {
                        packed[base + c * NR + j] = 0f;
                    }
                } else if (heap != null && bf16) {
                    int from = w.heapOffset() + 2 * (row * k + kb);
                    for (int c = 0; c < kc; c++) {
                        packed[base + c * NR + j] = Float.intBitsToFloat((short) SHORTS.get(heap, from + 2 * c) << 16);
                    }
                } else {
                    ByteBuffer data = w.data();
                    HalfType type = w.type();
                    int from = 2 * (row * k + kb);
                    for (int c = 0; c < kc; c++) {
                        packed[base + c * NR + j] = type.toFloat(data.getShort(from + 2 * c));
                    }
                }
            }
        }
    }

    /**
     * {@link #pack} from a matrix in panels: a panel of NR features is already k-major, so each of its column pairs
     * widens into the packed columns kb + 2j and kb + 2j + 1 with four vector stores (features past the matrix's rows
     * are the panels' zero padding; n0 is a multiple of NR and kb, kc are even).
     */
    private static void packPanels(HalfMatrix w, int n0, int n1, int kb, int kc, float[] packed) {
        byte[] heap = w.heapArray();
        int panels = (n1 - n0 + NR - 1) / NR;
        for (int panel = 0; panel < panels; panel++) {
            int base = panel * kc * NR;
            for (int j = 0; j < kc / 2; j++) {
                int at = w.pairByte(n0 / NR + panel, kb / 2 + j);
                IntVector p0 = IntVector.fromByteArray(PAIRS, heap, at, ByteOrder.LITTLE_ENDIAN);
                IntVector p1 = IntVector.fromByteArray(PAIRS, heap, at + 4 * LANES, ByteOrder.LITTLE_ENDIAN);
                int to = base + 2 * j * NR;
                Widening.bf16Even(p0).intoArray(packed, to);
                Widening.bf16Even(p1).intoArray(packed, to + LANES);
                Widening.bf16Odd(p0).intoArray(packed, to + NR);
                Widening.bf16Odd(p1).intoArray(packed, to + NR + LANES);
            }
        }
    }

    /** y[MR rows from yo, NR features] (+)= x (packed: [kc][MR] from xo) . panel^T. */
    private static void tile(float[] x, int xo, float[] p, int po, int kc, float[] y, int yo, int ldy,
                             boolean first) {
        if (MR == 8) {
            tile8(x, xo, p, po, kc, y, yo, ldy, first);
        } else {
            tile4(x, xo, p, po, kc, y, yo, ldy, first);
        }
    }

    /** {@link #tile} for MR = 4: 8 accumulators. */
    private static void tile4(float[] x, int xo, float[] p, int po, int kc, float[] y, int yo, int ldy,
                              boolean first) {
        FloatVector c00;
        FloatVector c01;
        FloatVector c10;
        FloatVector c11;
        FloatVector c20;
        FloatVector c21;
        FloatVector c30;
        FloatVector c31;
        if (first) {
            c00 = FloatVector.zero(FLOATS);
            c01 = c00;
            c10 = c00;
            c11 = c00;
            c20 = c00;
            c21 = c00;
            c30 = c00;
            c31 = c00;
        } else {
            c00 = FloatVector.fromArray(FLOATS, y, yo);
            c01 = FloatVector.fromArray(FLOATS, y, yo + LANES);
            c10 = FloatVector.fromArray(FLOATS, y, yo + ldy);
            c11 = FloatVector.fromArray(FLOATS, y, yo + ldy + LANES);
            c20 = FloatVector.fromArray(FLOATS, y, yo + 2 * ldy);
            c21 = FloatVector.fromArray(FLOATS, y, yo + 2 * ldy + LANES);
            c30 = FloatVector.fromArray(FLOATS, y, yo + 3 * ldy);
            c31 = FloatVector.fromArray(FLOATS, y, yo + 3 * ldy + LANES);
        }
        for (int c = 0; c < kc; c++) {
            int q = po + c * NR;
            int xc = xo + c * 4;
            FloatVector b0 = FloatVector.fromArray(FLOATS, p, q);
            FloatVector b1 = FloatVector.fromArray(FLOATS, p, q + LANES);
            FloatVector a = FloatVector.broadcast(FLOATS, x[xc]);
            c00 = b0.fma(a, c00);
            c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(FLOATS, x[xc + 1]);
            c10 = b0.fma(a, c10);
            c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(FLOATS, x[xc + 2]);
            c20 = b0.fma(a, c20);
            c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(FLOATS, x[xc + 3]);
            c30 = b0.fma(a, c30);
            c31 = b1.fma(a, c31);
        }
        c00.intoArray(y, yo);
        c01.intoArray(y, yo + LANES);
        c10.intoArray(y, yo + ldy);
        c11.intoArray(y, yo + ldy + LANES);
        c20.intoArray(y, yo + 2 * ldy);
        c21.intoArray(y, yo + 2 * ldy + LANES);
        c30.intoArray(y, yo + 3 * ldy);
        c31.intoArray(y, yo + 3 * ldy + LANES);
    }

    /**
     * {@link #tile} for MR = 8: 16 accumulators, per column two panel loads, eight broadcasts and sixteen FMAs.
     * Written out like {@link #tile4}: C2 (JDK 17) boxed the vectors of loops over accumulator arrays.
     */
    private static void tile8(float[] x, int xo, float[] p, int po, int kc, float[] y, int yo, int ldy,
                              boolean first) {
        FloatVector c00;
        FloatVector c01;
        FloatVector c10;
        FloatVector c11;
        FloatVector c20;
        FloatVector c21;
        FloatVector c30;
        FloatVector c31;
        FloatVector c40;
        FloatVector c41;
        FloatVector c50;
        FloatVector c51;
        FloatVector c60;
        FloatVector c61;
        FloatVector c70;
        FloatVector c71;
        if (first) {
            c00 = FloatVector.zero(FLOATS);
            c01 = c00;
            c10 = c00;
            c11 = c00;
            c20 = c00;
            c21 = c00;
            c30 = c00;
            c31 = c00;
            c40 = c00;
            c41 = c00;
            c50 = c00;
            c51 = c00;
            c60 = c00;
            c61 = c00;
            c70 = c00;
            c71 = c00;
        } else {
            c00 = FloatVector.fromArray(FLOATS, y, yo);
            c01 = FloatVector.fromArray(FLOATS, y, yo + LANES);
            c10 = FloatVector.fromArray(FLOATS, y, yo + ldy);
            c11 = FloatVector.fromArray(FLOATS, y, yo + ldy + LANES);
            c20 = FloatVector.fromArray(FLOATS, y, yo + 2 * ldy);
            c21 = FloatVector.fromArray(FLOATS, y, yo + 2 * ldy + LANES);
            c30 = FloatVector.fromArray(FLOATS, y, yo + 3 * ldy);
            c31 = FloatVector.fromArray(FLOATS, y, yo + 3 * ldy + LANES);
            c40 = FloatVector.fromArray(FLOATS, y, yo + 4 * ldy);
            c41 = FloatVector.fromArray(FLOATS, y, yo + 4 * ldy + LANES);
            c50 = FloatVector.fromArray(FLOATS, y, yo + 5 * ldy);
            c51 = FloatVector.fromArray(FLOATS, y, yo + 5 * ldy + LANES);
            c60 = FloatVector.fromArray(FLOATS, y, yo + 6 * ldy);
            c61 = FloatVector.fromArray(FLOATS, y, yo + 6 * ldy + LANES);
            c70 = FloatVector.fromArray(FLOATS, y, yo + 7 * ldy);
            c71 = FloatVector.fromArray(FLOATS, y, yo + 7 * ldy + LANES);
        }
        for (int c = 0; c < kc; c++) {
            int q = po + c * NR;
            int xc = xo + c * 8;
            FloatVector b0 = FloatVector.fromArray(FLOATS, p, q);
            FloatVector b1 = FloatVector.fromArray(FLOATS, p, q + LANES);
            FloatVector a = FloatVector.broadcast(FLOATS, x[xc]);
            c00 = b0.fma(a, c00);
            c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(FLOATS, x[xc + 1]);
            c10 = b0.fma(a, c10);
            c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(FLOATS, x[xc + 2]);
            c20 = b0.fma(a, c20);
            c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(FLOATS, x[xc + 3]);
            c30 = b0.fma(a, c30);
            c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(FLOATS, x[xc + 4]);
            c40 = b0.fma(a, c40);
            c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(FLOATS, x[xc + 5]);
            c50 = b0.fma(a, c50);
            c51 = b1.fma(a, c51);
            a = FloatVector.broadcast(FLOATS, x[xc + 6]);
            c60 = b0.fma(a, c60);
            c61 = b1.fma(a, c61);
            a = FloatVector.broadcast(FLOATS, x[xc + 7]);
            c70 = b0.fma(a, c70);
            c71 = b1.fma(a, c71);
        }
        c00.intoArray(y, yo);
        c01.intoArray(y, yo + LANES);
        c10.intoArray(y, yo + ldy);
        c11.intoArray(y, yo + ldy + LANES);
        c20.intoArray(y, yo + 2 * ldy);
        c21.intoArray(y, yo + 2 * ldy + LANES);
        c30.intoArray(y, yo + 3 * ldy);
        c31.intoArray(y, yo + 3 * ldy + LANES);
        c40.intoArray(y, yo + 4 * ldy);
        c41.intoArray(y, yo + 4 * ldy + LANES);
        c50.intoArray(y, yo + 5 * ldy);
        c51.intoArray(y, yo + 5 * ldy + LANES);
        c60.intoArray(y, yo + 6 * ldy);
        c61.intoArray(y, yo + 6 * ldy + LANES);
        c70.intoArray(y, yo + 7 * ldy);
        c71.intoArray(y, yo + 7 * ldy + LANES);
    }
}
