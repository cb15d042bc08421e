package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.Widening.FLOATS;
import static io.convllava.llm.kernel.Widening.PAIRS;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * y[b, r] = sum_c x[b, c] * W[r, c] for a batch of float32 rows x [batch, cols] and a 16-bit matrix W [rows, cols]
 * (a Linear weight as stored), into float32 y [batch, rows]: the weights stay 16-bit, the arithmetic is float32.
 *
 * <p>Decode is bound by the weight bytes it streams, so the kernel reads each weight once per call whatever the batch:
 * rows are split into chunks of about {@value #CHUNK_BYTES} bytes, handed out on a {@link ChunkPool}, and within a
 * chunk every batch row is applied to a weight vector while it is in registers (batch 1) or in the L1/L2 cache
 * (larger batches). Weights are widened in registers ({@link Widening}); x is split into its even and odd columns
 * once per call to match. Columns past the last whole vector are summed in scalar code.
 */
public final class HalfMatMul implements AutoCloseable {
    /** Weight columns per vector load: two per int lane. */
    private static final int COLS_PER_LOAD = 2 * PAIRS.length();
    /** Weight rows per pass of the inner loops. */
    private static final int ROW_TILE = 4;
    /** Input rows that share one pass over the weight rows when batch > 1 (the batch is padded to a multiple). */
    private static final int BATCH_TILE = 2;
    /** Weight bytes per chunk of rows: large enough to amortise the hand-out, small enough to stay in L2. */
    private static final int CHUNK_BYTES = 64 * 1024;

    private final ChunkPool pool;

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
     * y[b, r] = sum_c x[b, c] * w[r, c] for b in [0, batch).
     *
     * @param x [batch, w.cols()] row-major (longer arrays allowed; the rest is ignored)
     * @param y [batch, w.rows()] row-major, overwritten
     */
    public void multiply(HalfMatrix w, float[] x, int batch, float[] y) {
        int rows = w.rows();
        int cols = w.cols();
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        if (x.length < (long) batch * cols || y.length < (long) batch * rows) {
            throw new IllegalArgumentException("x has " + x.length + " floats and y " + y.length + ", [" + batch + ", "
                    + rows + "x" + cols + "] needs " + (long) batch * cols + " and " + (long) batch * rows);
        }
        int pairs = cols / COLS_PER_LOAD * PAIRS.length(); // int lanes per weight row covered by whole vectors
        int tiles = batch == 1 ? 1 : (batch + BATCH_TILE - 1) / BATCH_TILE;
        float[] split = split(x, batch, cols, pairs, batch == 1 ? 1 : tiles * BATCH_TILE);
        int chunkRows = Math.max(ROW_TILE, CHUNK_BYTES / (2 * cols) / ROW_TILE * ROW_TILE);
        int chunks = (rows + chunkRows - 1) / chunkRows;
        Task task = new Task(w, x, batch, y, split, pairs);
        pool.run(chunks, chunk -> {
            int first = chunk * chunkRows;
            int end = Math.min(rows, first + chunkRows);
            if (batch == 1) {
                for (int r = first; r < end; r += ROW_TILE) {
                    task.fourRowsOneInput(r);
                }
            } else {
                for (int tile = 0; tile < tiles; tile++) {
                    for (int r = first; r < end; r += ROW_TILE) {
                        task.fourRowsTwoInputs(r, tile * BATCH_TILE);
                    }
                }
            }
        });
    }

    /**
     * x [batch, cols] -> [paddedBatch, 2, pairs]: per input row its even columns 0, 2, .., then its odd columns 1, 3, ..
     * (the vector part only); padding rows are zero.
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

    /** One call's operands and the inner loops over them. Rows past the end are clamped to the last row and not stored. */
    private static final class Task {
        private final ByteBuffer w;    // [rows, cols] 16-bit, little-endian
        private final HalfType type;
        private final boolean fp16;
        private final int rows;
        private final int cols;
        private final int rowBytes;
        private final float[] x;       // [batch, cols]
        private final int batch;
        private final float[] y;       // [batch, rows]
        private final float[] split;   // [paddedBatch, 2, pairs]
        private final int pairs;

        Task(HalfMatrix matrix, float[] x, int batch, float[] y, float[] split, int pairs) {
            this.w = matrix.data();
            this.type = matrix.type();
            this.fp16 = type == HalfType.FP16;
            this.rows = matrix.rows();
            this.cols = matrix.cols();
            this.rowBytes = 2 * cols;
            this.x = x;
            this.batch = batch;
            this.y = y;
            this.split = split;
            this.pairs = pairs;
        }

        /** y[0, r..r+3] for batch 1: four weight rows stream together and share each load of x. */
        void fourRowsOneInput(int r) {
            int last = rows - 1;
            int w0 = r * rowBytes;
            int w1 = Math.min(r + 1, last) * rowBytes;
            int w2 = Math.min(r + 2, last) * rowBytes;
            int w3 = Math.min(r + 3, last) * rowBytes;
            ByteBuffer w = this.w; // the loop reads locals: C2 re-reads fields on every iteration (measured 2x slower)
            float[] split = this.split;
            int pairs = this.pairs;
            boolean fp16 = this.fp16;
            FloatVector a0 = FloatVector.zero(FLOATS);
            FloatVector a1 = FloatVector.zero(FLOATS);
            FloatVector a2 = FloatVector.zero(FLOATS);
            FloatVector a3 = FloatVector.zero(FLOATS);
            for (int j = 0; j < pairs; j += PAIRS.length()) {
                FloatVector xe = FloatVector.fromArray(FLOATS, split, j);
                FloatVector xo = FloatVector.fromArray(FLOATS, split, pairs + j);
                IntVector p0 = IntVector.fromByteBuffer(PAIRS, w, w0 + 4 * j, ByteOrder.LITTLE_ENDIAN);
                IntVector p1 = IntVector.fromByteBuffer(PAIRS, w, w1 + 4 * j, ByteOrder.LITTLE_ENDIAN);
                IntVector p2 = IntVector.fromByteBuffer(PAIRS, w, w2 + 4 * j, ByteOrder.LITTLE_ENDIAN);
                IntVector p3 = IntVector.fromByteBuffer(PAIRS, w, w3 + 4 * j, ByteOrder.LITTLE_ENDIAN);
                a0 = Widening.odd(p0, fp16).fma(xo, Widening.even(p0, fp16).fma(xe, a0));
                a1 = Widening.odd(p1, fp16).fma(xo, Widening.even(p1, fp16).fma(xe, a1));
                a2 = Widening.odd(p2, fp16).fma(xo, Widening.even(p2, fp16).fma(xe, a2));
                a3 = Widening.odd(p3, fp16).fma(xo, Widening.even(p3, fp16).fma(xe, a3));
            }
            store(0, r, a0);
            store(0, r + 1, a1);
            store(0, r + 2, a2);
            store(0, r + 3, a3);
        }

        /**
         * y[b..b+1, r..r+3]: four weight rows, each widened once per vector and applied to two input rows (eight
         * accumulators, held in registers).
         */
        void fourRowsTwoInputs(int r, int b) {
            int last = rows - 1;
            int w0 = r * rowBytes;
            int w1 = Math.min(r + 1, last) * rowBytes;
            int w2 = Math.min(r + 2, last) * rowBytes;
            int w3 = Math.min(r + 3, last) * rowBytes;
            int x0 = b * 2 * pairs;
            int x1 = x0 + 2 * pairs;
            ByteBuffer w = this.w; // the loop reads locals: C2 re-reads fields on every iteration (measured 2x slower)
            float[] split = this.split;
            int pairs = this.pairs;
            boolean fp16 = this.fp16;
            FloatVector a00 = FloatVector.zero(FLOATS);
            FloatVector a01 = FloatVector.zero(FLOATS);
            FloatVector a10 = FloatVector.zero(FLOATS);
            FloatVector a11 = FloatVector.zero(FLOATS);
            FloatVector a20 = FloatVector.zero(FLOATS);
            FloatVector a21 = FloatVector.zero(FLOATS);
            FloatVector a30 = FloatVector.zero(FLOATS);
            FloatVector a31 = FloatVector.zero(FLOATS);
            for (int j = 0; j < pairs; j += PAIRS.length()) {
                FloatVector xe0 = FloatVector.fromArray(FLOATS, split, x0 + j);
                FloatVector xo0 = FloatVector.fromArray(FLOATS, split, x0 + pairs + j);
                FloatVector xe1 = FloatVector.fromArray(FLOATS, split, x1 + j);
                FloatVector xo1 = FloatVector.fromArray(FLOATS, split, x1 + pairs + j);
                IntVector p = IntVector.fromByteBuffer(PAIRS, w, w0 + 4 * j, ByteOrder.LITTLE_ENDIAN);
                FloatVector e = Widening.even(p, fp16);
                FloatVector o = Widening.odd(p, fp16);
                a00 = o.fma(xo0, e.fma(xe0, a00));
                a01 = o.fma(xo1, e.fma(xe1, a01));
                p = IntVector.fromByteBuffer(PAIRS, w, w1 + 4 * j, ByteOrder.LITTLE_ENDIAN);
                e = Widening.even(p, fp16);
                o = Widening.odd(p, fp16);
                a10 = o.fma(xo0, e.fma(xe0, a10));
                a11 = o.fma(xo1, e.fma(xe1, a11));
                p = IntVector.fromByteBuffer(PAIRS, w, w2 + 4 * j, ByteOrder.LITTLE_ENDIAN);
                e = Widening.even(p, fp16);
                o = Widening.odd(p, fp16);
                a20 = o.fma(xo0, e.fma(xe0, a20));
                a21 = o.fma(xo1, e.fma(xe1, a21));
                p = IntVector.fromByteBuffer(PAIRS, w, w3 + 4 * j, ByteOrder.LITTLE_ENDIAN);
                e = Widening.even(p, fp16);
                o = Widening.odd(p, fp16);
                a30 = o.fma(xo0, e.fma(xe0, a30));
                a31 = o.fma(xo1, e.fma(xe1, a31));
            }
            store(b, r, a00);
            store(b + 1, r, a01);
            store(b, r + 1, a10);
            store(b + 1, r + 1, a11);
            store(b, r + 2, a20);
            store(b + 1, r + 2, a21);
            store(b, r + 3, a30);
            store(b + 1, r + 3, a31);
        }

        /** y[b, r] = the vector part's lanes plus the columns past it, unless (b, r) is padding or a clamped row. */
        private void store(int b, int r, FloatVector vectorPart) {
            if (b >= batch || r >= rows) {
                return;
            }
            float sum = vectorPart.reduceLanes(VectorOperators.ADD);
            int xRow = b * cols;
            int wRow = r * rowBytes;
            for (int c = 2 * pairs; c < cols; c++) {
                sum += x[xRow + c] * type.toFloat(w.getShort(wRow + 2 * c));
            }
            y[b * rows + r] = sum;
        }
    }
}
