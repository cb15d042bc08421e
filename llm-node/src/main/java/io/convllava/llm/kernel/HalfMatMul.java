package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.Widening.LANES;

import java.nio.ByteBuffer;

/**
 * y[b, r] = sum_c x[b, c] * W[r, c] for a batch of float32 rows x [batch, cols] and a 16-bit matrix W [rows, cols]
 * (a Linear weight as stored), into float32 y [batch, rows]: the weights stay 16-bit, the arithmetic is float32.
 *
 * <p>Decode is bound by the weight bytes it streams, so the kernel reads each weight once per call whatever the batch.
 * A matrix {@link HalfMatrix#packed packed} in panels (how the decoder keeps its bf16 weights) runs on
 * {@link PanelRows}: chunks of two panels are handed out on a {@link ChunkPool}, and each chunk is applied to every
 * group of four inputs while it stays in L2, then to the inputs left over; every output is one chain of FMAs over the
 * columns in order. A row-major matrix (fp16, off-heap, or widths the panels do not take) is split into chunks of about
 * {@value #CHUNK_BYTES} bytes, and within a chunk each group of four rows is applied to every input (to one at batch 1,
 * in registers; otherwise to two at a time), the lanes' sums added at the end: weights are widened in registers
 * ({@link Widening}) and x is split into its even and odd columns once per call to match. Those inner loops are
 * {@link HeapRows} or {@link BufferRows} for bf16, by where the weights live, and {@link Fp16Rows} for fp16; columns
 * past the last whole vector are summed here in scalar code. Both layouts give an input the same bits alone or in a
 * batch.
 */
public final class HalfMatMul implements AutoCloseable {
    /** Weight columns per vector load: two per int lane. */
    private static final int COLS_PER_LOAD = 2 * LANES;
    /** Weight rows per pass of the inner loops. */
    private static final int ROW_TILE = 4;
    /** Inputs per pass of the inner loops when batch > 1 (the split input is padded to a multiple). */
    private static final int BATCH_TILE = 2;
    /** Weight bytes per chunk of rows: large enough to amortise the hand-out, small enough to stay in L2. */
    private static final int CHUNK_BYTES = 64 * 1024;
    /**
     * Whether groups of four inputs go through the panel kernel two at a time ({@link PanelRows#eightInputs}): where
     * vectors are 512 bits, whose 32 registers hold its 16 accumulators (AVX2's 16 do not).
     */
    private static final boolean PAIRED_GROUPS = LANES >= 16;

    /**
     * In {@link #multiplyPacked}, products with matrices of at least this many bytes run as a packed matrix product;
     * smaller ones stay in cache while streamed for every pair of inputs: packing them costs more than it saves.
     */
    static final long GEMM_BYTES = 1 << 18;

    private final ChunkPool pool;
    private final HalfGemm gemm = new HalfGemm();
    /** The inputs regrouped for {@link PanelRows#fourInputs}; grows to the largest batch. Guarded by this. */
    private float[] grouped = new float[0];

    /** A kernel on as many threads as the JVM sees processors. */
    public HalfMatMul() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A kernel on {@code threads} threads: the caller and (threads - 1) workers. */
    public HalfMatMul(int threads) {
        this.pool = new ChunkPool(threads);
    }

    public int threads() {
        return pool.threads();
    }

    /** The kernel's threads, for other work that must run on the same ones (the benchmark's bandwidth probe). */
    ChunkPool pool() {
        return pool;
    }

    /**
     * y[b, r] = sum_c x[b, c] * w[r, c] for b in [0, batch), streaming the weights once per pair of inputs. Each
     * input's sums run in the same order whatever the batch, so an input gets the same bits alone or batched.
     *
     * @param x [batch, w.cols()] row-major (longer arrays allowed; the rest is ignored)
     * @param y [batch, w.rows()] row-major, overwritten
     */
    public void multiply(HalfMatrix w, float[] x, int batch, float[] y) {
        checkShapes(w, x, batch, y);
        if (w.panels()) {
            multiplyPanels(w, x, batch, y);
            return;
        }
        int rows = w.rows();
        int cols = w.cols();
        int pairs = cols / COLS_PER_LOAD * LANES; // int lanes per weight row covered by whole vectors
        int paddedBatch = batch == 1 ? 1 : (batch + BATCH_TILE - 1) / BATCH_TILE * BATCH_TILE;
        float[] split = split(x, batch, cols, pairs, paddedBatch);
        int chunkRows = Math.max(ROW_TILE, CHUNK_BYTES / (2 * cols) / ROW_TILE * ROW_TILE);
        int chunks = (rows + chunkRows - 1) / chunkRows;
        Product product = new Product(w, x, batch, y, split, pairs, paddedBatch);
        pool.run(chunks, (long) rows * cols * batch, chunk -> {
            int first = chunk * chunkRows;
            product.rows(first, Math.min(rows, first + chunkRows));
        });
    }

    /**
     * {@link #multiply} for a matrix in panels: chunks of two panels, each applied to every group of four inputs (the
     * chunk staying in L2 meanwhile), two groups per pass where vectors are 512 bits. Two or three inputs left over
     * make a last group padded with zeros (whose outputs are dropped): a pass of four costs less than two or three
     * single passes, which need two weight loads and widenings per FMA where a group of four needs half of one. A
     * single one left over takes its own pass, two panels at a time. A last chunk that reaches past the matrix's rows
     * is computed into a scratch array and its rows copied out. Calls take turns, as they do on the pool anyway: the
     * regrouped inputs are one buffer.
     */
    private synchronized void multiplyPanels(HalfMatrix w, float[] x, int batch, float[] y) {
        int rows = w.rows();
        int cols = w.cols();
        int pairs = cols / 2;
        int n = PanelRows.INPUTS;
        int groups = batch % n >= 2 ? batch / n + 1 : batch / n;
        float[] inputs = groupInputs(x, batch, groups, cols);
        byte[] weights = w.heapArray();
        int panelBytes = w.panelBytes();
        int chunkRows = 2 * PanelRows.ROWS;
        int chunks = (rows + chunkRows - 1) / chunkRows;
        pool.run(chunks, (long) rows * cols * batch, chunk -> {
            int first = chunk * chunkRows;
            boolean edge = first + chunkRows > rows;
            float[] out = edge ? new float[batch * chunkRows] : y;
            int ldy = edge ? chunkRows : rows;
            int column = edge ? 0 : first;
            int wo = w.pairByte(2 * chunk, 0);
            for (int g = 0; g < groups; g += PAIRED_GROUPS ? 2 : 1) {
                int yo = g * n * ldy + column;
                int xo = g * n * cols;
                if (PAIRED_GROUPS && g + 1 < groups) { // only the last group can be short: the second one here
                    int count = Math.min(n, batch - (g + 1) * n);
                    PanelRows.eightInputs(weights, wo, pairs, inputs, xo, xo + n * cols, out, yo, ldy, count);
                    PanelRows.eightInputs(weights, wo + panelBytes, pairs, inputs, xo, xo + n * cols, out,
                            yo + PanelRows.ROWS, ldy, count);
                    continue;
                }
                int count = Math.min(n, batch - g * n);
                PanelRows.fourInputs(weights, wo, pairs, inputs, xo, out, yo, ldy, count);
                PanelRows.fourInputs(weights, wo + panelBytes, pairs, inputs, xo, out, yo + PanelRows.ROWS, ldy, count);
            }
            for (int b = groups * n; b < batch; b++) {
                PanelRows.oneInput(weights, wo, panelBytes, pairs, x, b * cols, out, b * ldy + column);
            }
            if (edge) {
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(out, b * chunkRows, y, b * rows + first, rows - first);
                }
            }
        });
    }

    /**
     * The first {@code groups} groups of four of the {@code batch} inputs of x [batch, cols], each as
     * [cols / 2][2][4]: column 2j of input i at 8j + i, column 2j+1 at 8j + 4 + i ({@link PanelRows#fourInputs}), in
     * {@link #grouped}; a last group's places past the batch are zeros.
     */
    private float[] groupInputs(float[] x, int batch, int groups, int cols) {
        int n = PanelRows.INPUTS;
        if (grouped.length < groups * n * cols) {
            grouped = new float[groups * n * cols];
        }
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < n; i++) {
                int from = (g * n + i) * cols;
                int to = g * n * cols + i;
                boolean real = g * n + i < batch;
                for (int j = 0; j < cols / 2; j++) {
                    grouped[to + 2 * n * j] = real ? x[from + 2 * j] : 0f;
                    grouped[to + 2 * n * j + n] = real ? x[from + 2 * j + 1] : 0f;
                }
            }
        }
        return grouped;
    }

    /**
     * As {@link #multiply}, for many inputs (a prompt's chunk): large matrices as a packed matrix product
     * ({@link HalfGemm}: compute bound, weights widened once per block). Its sums depend on the batch: not for
     * inputs that must match what they give alone.
     */
    public void multiplyPacked(HalfMatrix w, float[] x, int batch, float[] y) {
        if (w.byteSize() >= GEMM_BYTES) {
            checkShapes(w, x, batch, y);
            gemm.multiply(pool, w, x, batch, y);
        } else {
            multiply(w, x, batch, y);
        }
    }

    private static void checkShapes(HalfMatrix w, float[] x, int batch, float[] y) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        if (x.length < (long) batch * w.cols() || y.length < (long) batch * w.rows()) {
            throw new IllegalArgumentException("x has " + x.length + " floats and y " + y.length + ", [" + batch + ", "
                    + w.rows() + "x" + w.cols() + "] needs " + (long) batch * w.cols() + " and "
                    + (long) batch * w.rows());
        }
    }

    /**
     * x [batch, cols] -> [paddedBatch, 2, pairs]: per input row its even columns 0, 2, .., then its odd columns
     * 1, 3, .. (the vector part only); padding rows are zero.
     */
    private static float[] split(float[] x, int batch, int cols, int pairs, int paddedBatch) {
        float[] split = new float[paddedBatch * 2 * pairs];
        for (int b = 0; b < batch; b++) {
            int from = b * cols;
            int to = b * 2 * pairs;
            for (int j = 0; j < pairs; j++) {
                split[to + j] = x[from + 2 * j];
                split[to + pairs + j] = x[from + 2 * j + 1];
            }
        }
        return split;
    }

    @Override
    public void close() {
        pool.close();
    }

    /**
     * One call's operands, and the work on a chunk of rows: the inner loops on groups of four rows (rows past the end
     * are clamped to the last row and not stored), then each sum plus its scalar tail into y.
     */
    private static final class Product {
        private final byte[] heap;       // the weights when on the heap, else null
        private final ByteBuffer buffer; // [rows, cols] 16-bit, little-endian: tails, and the loops when off-heap
        private final int base;          // byte offset of W[0, 0] in heap (0 in buffer)
        private final HalfType type;
        private final int rows;
        private final int cols;
        private final float[] x;         // [batch, cols]
        private final int batch;
        private final float[] y;         // [batch, rows]
        private final float[] split;     // [paddedBatch, 2, pairs]
        private final int pairs;
        private final int paddedBatch;

        Product(HalfMatrix matrix, float[] x, int batch, float[] y, float[] split, int pairs, int paddedBatch) {
            this.heap = matrix.heapArray();
            this.buffer = matrix.data();
            this.base = matrix.heapOffset();
            this.type = matrix.type();
            this.rows = matrix.rows();
            this.cols = matrix.cols();
            this.x = x;
            this.batch = batch;
            this.y = y;
            this.split = split;
            this.pairs = pairs;
            this.paddedBatch = paddedBatch;
        }

        /**
         * y[.., first..end) for every input. bf16: each group of four rows against one input (batch 1) or, input pair
         * by input pair, against all of them (the chunk stays in L1/L2 meanwhile); fp16: row by row.
         */
        void rows(int first, int end) {
            if (type == HalfType.FP16) {
                float[] row = new float[2 * pairs]; // [2, pairs]
                for (int r = first; r < end; r++) {
                    Fp16Rows.widen(buffer, 2 * r * cols, pairs, row);
                    for (int b = 0; b < batch; b++) {
                        store(b, r, Fp16Rows.dot(row, split, b * 2 * pairs, pairs));
                    }
                }
                return;
            }
            float[] sums = new float[ROW_TILE * BATCH_TILE];
            if (batch == 1) {
                for (int r = first; r < end; r += ROW_TILE) {
                    oneInput(r, sums);
                    for (int k = 0; k < ROW_TILE; k++) {
                        store(0, r + k, sums[k]);
                    }
                }
                return;
            }
            for (int b = 0; b < paddedBatch; b += BATCH_TILE) {
                for (int r = first; r < end; r += ROW_TILE) {
                    twoInputs(r, b, sums);
                    for (int i = 0; i < BATCH_TILE; i++) {
                        for (int k = 0; k < ROW_TILE; k++) {
                            store(b + i, r + k, sums[ROW_TILE * i + k]);
                        }
                    }
                }
            }
        }

        /** sums[k] = the vector part of y[0, r + k], k = 0..3. */
        private void oneInput(int r, float[] sums) {
            int rowBytes = 2 * cols;
            int last = rows - 1;
            int w0 = r * rowBytes;
            int w1 = Math.min(r + 1, last) * rowBytes;
            int w2 = Math.min(r + 2, last) * rowBytes;
            int w3 = Math.min(r + 3, last) * rowBytes;
            if (heap != null) {
                HeapRows.fourRowsOneInput(heap, base + w0, base + w1, base + w2, base + w3, split, pairs, sums);
            } else {
                BufferRows.fourRowsOneInput(buffer, w0, w1, w2, w3, split, pairs, sums);
            }
        }

        /** sums[4 * i + k] = the vector part of y[b + i, r + k], k = 0..3, i = 0..1. */
        private void twoInputs(int r, int b, float[] sums) {
            int rowBytes = 2 * cols;
            int last = rows - 1;
            int w0 = r * rowBytes;
            int w1 = Math.min(r + 1, last) * rowBytes;
            int w2 = Math.min(r + 2, last) * rowBytes;
            int w3 = Math.min(r + 3, last) * rowBytes;
            int x0 = b * 2 * pairs;
            if (heap != null) {
                HeapRows.fourRowsTwoInputs(heap, base + w0, base + w1, base + w2, base + w3, split, x0, pairs, sums);
            } else {
                BufferRows.fourRowsTwoInputs(buffer, w0, w1, w2, w3, split, x0, pairs, sums);
            }
        }

        /** y[b, r] = the vector part plus the columns past it, unless (b, r) is padding or a clamped row. */
        private void store(int b, int r, float vectorPart) {
            if (b >= batch || r >= rows) {
                return;
            }
            float sum = vectorPart;
            int xRow = b * cols;
            int wRow = 2 * r * cols;
            for (int c = 2 * pairs; c < cols; c++) {
                sum += x[xRow + c] * type.toFloat(buffer.getShort(wRow + 2 * c));
            }
            y[b * rows + r] = sum;
        }
    }
}
