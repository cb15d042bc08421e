package io.convllava.llm.cpu;

import io.convllava.common.checkpoint.Checkpoints;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.llm.kernel.CausalAttention;
import io.convllava.llm.kernel.HalfMatMul;
import io.convllava.llm.kernel.HalfMatrix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The decoder layers [start, end) of a LLaMA model computed in Java on the CPU: weights stay 16-bit (bf16/fp16, as
 * the checkpoint stores them), activations and accumulation are float32, so results equal the float32 reference up
 * to summation order. Weight products of up to {@value #TORCH_ROWS} rows (decode steps, short prompts) go through
 * {@link HalfMatMul}, which reads each weight once per call whatever the number of rows; longer chunks through
 * HalfMatMul's packed product, or with {@code -Dconvllava.prefill=torch} through {@link TorchProducts} (libtorch's
 * float32 product on weights widened per call). A prompt is processed in chunks of
 * {@value #CHUNK} positions, so activation memory does not grow with its length. Not thread-safe: the owning shard
 * serialises calls (its buffers are reused by every call).
 */
public final class CpuDecoder implements AutoCloseable {
    /** Positions per block of KV memory: a session's cache grows by whole blocks. */
    public static final int KV_BLOCK = KvBlocks.BLOCK;
    /**
     * Positions per chunk of a prompt: bounds activation memory (a chunk's workspace is 19 MB at the TinyLlama
     * shape); 512 doubled that for prompts no faster (alternated runs within the machine's noise).
     */
    public static final int CHUNK = 256;
    /** From this many rows on, weight products run as a packed matrix product (or on libtorch): not row by row. */
    static final int TORCH_ROWS = 128;
    /** Matrices smaller than this are multiplied on the calling thread: waking the others costs more than it saves. */
    private static final long SERIAL_BYTES = 1 << 20;

    private final LlmConfig config;
    private final HalfMatrix embedding; // [vocab, H], first shard only
    private final List<CpuLayer> layers;
    private final float[] finalNorm;    // [H], last shard only
    private final HalfMatrix lmHead;    // [vocab, H], last shard only
    private final RopeTable rope;
    private final HalfMatMul kernel;
    private final HalfMatMul serialKernel = new HalfMatMul(1);
    private final TorchProducts torch = new TorchProducts();
    private final boolean torchPrefill = TorchProducts.enabled(); // read once per decoder
    private final CausalAttention attention;
    private final Workspace ws;
    private final KvBlockPool kvPool;

    private CpuDecoder(LlmConfig config, HalfMatrix embedding, List<CpuLayer> layers, float[] finalNorm,
                       HalfMatrix lmHead, HalfMatMul products) {
        this.config = config;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.rope = new RopeTable(config.headDim(), config.maxPositionEmbeddings(), config.ropeTheta());
        this.kernel = products;
        this.ws = new Workspace(config);
        this.kvPool = new KvBlockPool(KV_BLOCK * config.numKeyValueHeads() * config.headDim());
        this.attention = new CausalAttention(config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(),
                KV_BLOCK);
    }

    /** Whether every weight matrix of layers [start, end) is stored 16-bit, so this decoder can keep them as they are. */
    public static boolean canLoad(TensorSource source, int start, int end) {
        HalfWeights w = new HalfWeights(source);
        for (int i = start; i < end; i++) {
            for (String name : CpuLayer.matrixNames(i)) {
                if (!w.isHalf(name)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Reads the shard's tensors (matrices as views of the checkpoint's memory map); {@code onLayer} is told the count
     * of layers loaded so far.
     */
    public static CpuDecoder load(LlmConfig cfg, TensorSource source, int start, int end, IntConsumer onLayer) {
        requireHeapFor(cfg, source, start, end);
        HalfWeights w = new HalfWeights(source);
        int hidden = cfg.hiddenSize();
        HalfMatrix embedding = start == 0 ? w.table(Names.EMBEDDING, cfg.vocabSize(), hidden) : null;
        List<CpuLayer> layers = new ArrayList<>(end - start);
        for (int i = start; i < end; i++) {
            layers.add(CpuLayer.load(w, cfg, i));
            onLayer.accept(i - start + 1);
        }
        float[] norm = null;
        HalfMatrix head = null;
        if (end == cfg.numHiddenLayers()) {
            norm = w.vector(Names.FINAL_NORM, hidden);
            String headName = !w.contains(Names.LM_HEAD) && cfg.tieWordEmbeddings() ? Names.EMBEDDING : Names.LM_HEAD;
            head = w.matrix(headName, cfg.vocabSize(), hidden);
        }
        return new CpuDecoder(cfg, embedding, List.copyOf(layers), norm, head, new HalfMatMul());
    }

    /** The 16-bit matrices live in the Java heap: say how much is needed before loading, not with OutOfMemoryError. */
    private static void requireHeapFor(LlmConfig cfg, TensorSource source, int start, int end) {
        List<String> names = new ArrayList<>();
        for (int i = start; i < end; i++) {
            names.addAll(List.of(CpuLayer.matrixNames(i)));
        }
        if (end == cfg.numHiddenLayers()) { // the embedding stays mapped (HalfWeights.table); a tied head is copied
            names.add(source.contains(Names.LM_HEAD) ? Names.LM_HEAD : Names.EMBEDDING);
        }
        long needed = Checkpoints.storedBytes(source, names);
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (needed > available) {
            throw new IllegalStateException(String.format("decoder layers [%d, %d) keep %.2f GB of 16-bit weights in"
                    + " the Java heap, but only %.2f GB of the %.2f GB maximum heap are free: raise -Xmx (for example"
                    + " -Xmx%dg in CONVLLAVA_JAVA_OPTS, or --node-java-opts for local)", start, end, needed / 1e9,
                    available / 1e9, rt.maxMemory() / 1e9, (long) Math.ceil(needed * 1.25 / (1L << 30)) + 1));
        }
    }

    /** Bytes of KV blocks that ended sessions gave back, free for the next ones. */
    public long freeKvBytes() {
        return kvPool.bytes();
    }

    /** An empty cache for one session. */
    public Session newSession() {
        return new Session(new KvBlocks(layers.size(), config.numKeyValueHeads() * config.headDim(),
                config.maxPositionEmbeddings(), kvPool));
    }

    /** Row {@code id} of the embedding table, widened into {@code dst} at {@code offset}. */
    public void embed(int id, float[] dst, int offset) {
        if (id < 0 || id >= config.vocabSize()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, "
                    + config.vocabSize() + ")");
        }
        for (int c = 0; c < config.hiddenSize(); c++) {
            dst[offset + c] = embedding.get(id, c);
        }
    }

    /**
     * Runs {@code rows} new positions x [rows, H] through this shard's layers, in place, appending their keys and
     * values to the session's cache: in chunks of {@value #CHUNK} rows, each one {@link #step}.
     */
    public void forward(Session session, float[] x, int rows) {
        int hidden = config.hiddenSize();
        float[] chunk = rows <= CHUNK ? x : new float[CHUNK * hidden];
        for (int done = 0; done < rows; done += CHUNK) {
            int n = Math.min(CHUNK, rows - done);
            if (chunk != x) {
                System.arraycopy(x, done * hidden, chunk, 0, n * hidden);
            }
            step(List.of(new Slice(session, 0, n)), chunk, n);
            if (chunk != x) {
                System.arraycopy(chunk, 0, x, done * hidden, n * hidden);
            }
        }
    }

    /**
     * One step of several sessions at once: x [rows, H] holds every slice's new positions; each runs at its
     * session's next positions and appends to its cache; x is overwritten with the layers' output. The weight
     * products run once over all rows (a slice of {@value #TORCH_ROWS} rows or more on libtorch, by itself, as it
     * would alone), attention per slice against its own cache, so a session's numbers do not depend on the others.
     *
     * @param slices disjoint, each at most {@value #CHUNK} rows, covering rows [0, rows) of x
     */
    public void step(List<Slice> slices, float[] x, int rows) {
        int hidden = config.hiddenSize();
        ws.ensure(rows);
        for (Slice s : slices) {
            s.session.cache.reserve(s.session.length() + s.rows);
        }
        List<Slice> groups = productGroups(slices);
        System.arraycopy(x, 0, ws.h, 0, rows * hidden);
        for (int i = 0; i < layers.size(); i++) {
            layer(layers.get(i), i, slices, groups, rows);
        }
        System.arraycopy(ws.h, 0, x, 0, rows * hidden);
        for (Slice s : slices) {
            s.session.cache.advance(s.rows);
        }
    }

    /**
     * The row ranges of one weight product each: every long slice alone, runs of adjacent short ones together, each
     * run under {@link #TORCH_ROWS} rows so that it takes the row-invariant kernels: a short slice gets the same bits
     * whatever runs beside it (a failover replays sessions in steps shaped unlike their first run).
     */
    private static List<Slice> productGroups(List<Slice> slices) {
        List<Slice> sorted = new ArrayList<>(slices);
        sorted.sort(java.util.Comparator.comparingInt(Slice::offset));
        List<Slice> groups = new ArrayList<>();
        int runStart = -1;
        int runEnd = -1;
        for (Slice s : sorted) {
            boolean small = s.rows < TORCH_ROWS;
            if (small && runStart >= 0 && runEnd == s.offset && runEnd + s.rows - runStart < TORCH_ROWS) {
                runEnd += s.rows;
                continue;
            }
            if (runStart >= 0) {
                groups.add(new Slice(null, runStart, runEnd - runStart));
                runStart = -1;
            }
            if (small) {
                runStart = s.offset;
                runEnd = s.offset + s.rows;
            } else {
                groups.add(new Slice(null, s.offset, s.rows));
            }
        }
        if (runStart >= 0) {
            groups.add(new Slice(null, runStart, runEnd - runStart));
        }
        return groups;
    }

    /** The last shard's final norm and lm_head on row {@code row} of x [rows, H]: float32 logits [vocab]. */
    public float[] logits(float[] x, int row) {
        float[] logits = new float[config.vocabSize()];
        logits(x, new int[] {row}, logits);
        return logits;
    }

    /**
     * As {@link #logits(float[], int)} for several rows of x in one product: [rows.length, vocab] in a buffer of this
     * decoder that its next call overwrites (longer than that when an earlier call had more rows): a step of many
     * sessions allocates no vocabulary-sized array per session.
     */
    public float[] logits(float[] x, int[] rows) {
        int size = rows.length * config.vocabSize();
        if (ws.logits.length < size) {
            ws.logits = new float[size];
        }
        logits(x, rows, ws.logits);
        return ws.logits;
    }

    private void logits(float[] x, int[] rows, float[] all) {
        int hidden = config.hiddenSize();
        int vocab = config.vocabSize();
        int n = rows.length;
        ws.ensure(n);
        for (int i = 0; i < n; i++) {
            System.arraycopy(x, rows[i] * hidden, ws.h, i * hidden, hidden);
        }
        rmsNorm(ws.h, finalNorm, ws.normed, 0, n);
        // in runs under TORCH_ROWS rows: each row's logits the same whatever other sessions end in this step
        for (int first = 0; first < n; first += TORCH_ROWS - 1) {
            int rowsNow = Math.min(TORCH_ROWS - 1, n - first);
            if (first == 0 && rowsNow == n) {
                multiply(lmHead, ws.normed, n, all);
            } else {
                float[] in = Arrays.copyOfRange(ws.normed, first * hidden, (first + rowsNow) * hidden);
                float[] out = new float[rowsNow * vocab];
                multiply(lmHead, in, rowsNow, out);
                System.arraycopy(out, 0, all, first * vocab, rowsNow * vocab);
            }
        }
    }

    /** One block on every slice's rows: h += attn(norm1(h)); h += mlp(norm2(h)). */
    private void layer(CpuLayer l, int index, List<Slice> slices, List<Slice> groups, int n) {
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int d = config.headDim();
        int qSize = heads * d;
        int kvSize = kvHeads * d;
        int hidden = config.hiddenSize();
        int ffn = config.intermediateSize();
        rmsNorm(ws.h, l.inputNorm(), ws.normed, 0, n);
        multiply(l.qkv(), ws.normed, groups, ws.qkv);           // [n, qSize + 2 kvSize]
        int width = qSize + 2 * kvSize;
        for (int r = 0; r < n; r++) {
            System.arraycopy(ws.qkv, r * width, ws.q, r * qSize, qSize);
            System.arraycopy(ws.qkv, r * width + qSize, ws.k, r * kvSize, kvSize);
            System.arraycopy(ws.qkv, r * width + qSize + kvSize, ws.v, r * kvSize, kvSize);
        }
        for (Slice s : slices) {
            int first = s.session.length();
            rope.apply(ws.q, s.offset, s.rows, heads, first);
            rope.apply(ws.k, s.offset, s.rows, kvHeads, first);
            for (int r = 0; r < s.rows; r++) {
                s.session.cache.write(index, first + r, ws.k, ws.v, s.offset + r);
            }
        }
        attention(index, slices);                                 // ws.q -> ws.attended [n, qSize]
        multiply(l.o(), ws.attended, groups, ws.out);
        VectorMath.add(ws.out, ws.h, n * hidden);

        rmsNorm(ws.h, l.postNorm(), ws.normed, 0, n);
        multiply(l.gateUp(), ws.normed, groups, ws.gateUp);     // [n, 2F]: gate then up
        // in place, row by row: row r's [F] activations land at r F, where rows before it were (and row 0's gate)
        for (int r = 0; r < n; r++) {
            VectorMath.swiGlu(ws.gateUp, r * 2 * ffn, r * 2 * ffn + ffn, ws.gateUp, r * ffn, ffn);
        }
        multiply(l.down(), ws.gateUp, groups, ws.out);          // [n, F] -> [n, H]
        VectorMath.add(ws.out, ws.h, n * hidden);
    }

    /**
     * Causal softmax(q k^T / sqrt(d)) v for each row of each slice, against that slice's session cache: chunks of a
     * prompt as they are, the single rows of decode steps all together. A row gets the same bits either way.
     */
    private void attention(int layer, List<Slice> slices) {
        int n = 0; // single rows, listed in ws.row
        for (Slice s : slices) {
            KvBlocks cache = s.session.cache;
            if (s.rows > 1) {
                attention.run(ws.q, ws.attended, s.offset, s.session.length(), s.rows, cache.keys(layer),
                        cache.values(layer));
                continue;
            }
            ws.row[n] = s.offset;
            ws.rowPosition[n] = s.session.length();
            ws.rowKeys[n] = cache.keys(layer);
            ws.rowValues[n] = cache.values(layer);
            n++;
        }
        attention.runRows(ws.q, ws.attended, n, ws.row, ws.rowPosition, ws.rowKeys, ws.rowValues);
    }

    /** y = x W^T for the rows of each product group: one product per group. */
    private void multiply(HalfMatrix w, float[] x, List<Slice> groups, float[] y) {
        for (Slice g : groups) {
            if (g.offset == 0) {
                multiply(w, x, g.rows, y);
                continue;
            }
            int cols = w.cols();
            int out = w.rows();
            float[] in = ws.staging(0, g.rows * cols);
            float[] product = ws.staging(1, g.rows * out);
            System.arraycopy(x, g.offset * cols, in, 0, g.rows * cols);
            multiply(w, in, g.rows, product);
            System.arraycopy(product, 0, y, g.offset * out, g.rows * out);
        }
    }

    /** y = x W^T for n rows: the 16-bit kernels, or libtorch for many rows where {@link TorchProducts#enabled}. */
    private void multiply(HalfMatrix w, float[] x, int n, float[] y) {
        if (n >= TORCH_ROWS && torchPrefill) {
            torch.multiply(w, x, n, y);
        } else if (n >= TORCH_ROWS) {
            kernel.multiplyPacked(w, x, n, y);
        } else if (w.byteSize() * n < SERIAL_BYTES) {
            serialKernel.multiply(w, x, n, y);
        } else {
            kernel.multiply(w, x, n, y);
        }
    }

    /** LLaMA RMSNorm in float32, like HF: w * (x / sqrt(mean(x^2) + eps)), for rows [firstRow, firstRow + n) of [H]. */
    private void rmsNorm(float[] x, float[] weight, float[] out, int firstRow, int n) {
        int hidden = config.hiddenSize();
        float eps = (float) config.rmsNormEps();
        for (int r = firstRow; r < firstRow + n; r++) {
            int base = r * hidden;
            float sumSquares = VectorMath.dot(x, base, x, base, hidden);
            float rms = (float) Math.sqrt(sumSquares / hidden + eps);
            for (int c = 0; c < hidden; c++) {
                out[base + c] = x[base + c] / rms * weight[c];
            }
        }
    }

    @Override
    public void close() {
        kernel.close();
        serialKernel.close();
        torch.close();
    }

    /** One session's state on this shard: its KV cache. */
    public static final class Session {
        private final KvBlocks cache;

        private Session(KvBlocks cache) {
            this.cache = cache;
        }

        /** Positions cached. */
        public int length() {
            return cache.length();
        }

        /** Bytes of KV memory held. */
        public long bytes() {
            return cache.bytes();
        }

        /** Forgets positions from {@code length} on. */
        public void truncate(int length) {
            cache.truncate(length);
        }

        /** A new session holding this one's first {@code length} positions (their full KV blocks shared). */
        public Session copy(int length) {
            return new Session(cache.copy(length));
        }

        /** Gives every block back for later sessions; the session is not used after this. */
        public void close() {
            cache.truncate(0);
        }
    }

    /** One session's rows in a {@link #step}: rows [offset, offset + rows) of the step's input. */
    public record Slice(Session session, int offset, int rows) {
    }

    /**
     * Activation buffers of one step, reused by every call: allocated for the largest step so far (a prompt chunk
     * plus a batch of decode rows), so a steady decode loop allocates nothing.
     */
    private static final class Workspace {
        private final LlmConfig c;
        private int capacity;
        float[] h;          // [rows, H] the residual stream
        // normed, q and out share memory: each is spent before the next is written (normed feeds the q/k/v
        // product, q the attention, out the residual add before the next norm)
        float[] normed;     // [rows, H]
        float[] qkv;        // [rows, (heads + 2 kvHeads) * d]
        float[] q;          // [rows, heads * d]
        float[] k;          // [rows, kvHeads * d]
        float[] v;          // [rows, kvHeads * d]
        float[] attended;   // [rows, heads * d]: the memory of qkv, which is spent once split into q, k and v
        float[] out;        // [rows, H]
        float[] gateUp;     // [rows, 2F], then the activations [rows, F] written over it
        int[] row;          // [rows] the single rows of decode steps
        int[] rowPosition;  // [rows] the position of each
        float[][][] rowKeys;   // [rows] the key blocks of the layer at hand of each one's cache
        float[][][] rowValues; // [rows] and its value blocks
        float[] logits = new float[0]; // [rows, vocab] of the last shard's latest step
        private final float[][] staging = new float[2][];

        Workspace(LlmConfig c) {
            this.c = c;
            ensure(1);
        }

        void ensure(int rows) {
            if (rows <= capacity) {
                return;
            }
            int qSize = c.numAttentionHeads() * c.headDim();
            int kvSize = c.numKeyValueHeads() * c.headDim();
            h = new float[rows * c.hiddenSize()];
            normed = new float[rows * Math.max(c.hiddenSize(), qSize)];
            qkv = new float[rows * (qSize + 2 * kvSize)];
            q = normed;
            k = new float[rows * kvSize];
            v = new float[rows * kvSize];
            attended = qkv;
            out = normed;
            gateUp = new float[rows * 2 * c.intermediateSize()];
            row = new int[rows];
            rowPosition = new int[rows];
            rowKeys = new float[rows][][];
            rowValues = new float[rows][][];
            capacity = rows;
        }

        /** Scratch {@code which} (0 or 1) of at least {@code floats}, for products of rows not at offset 0. */
        float[] staging(int which, int floats) {
            if (staging[which] == null || staging[which].length < floats) {
                staging[which] = new float[floats];
            }
            return staging[which];
        }
    }
}
