package io.convllava.llm.cpu;

import io.convllava.common.checkpoint.Checkpoints;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.llm.kernel.CausalAttention;
import io.convllava.llm.kernel.HalfMatMul;
import io.convllava.llm.kernel.HalfMatrix;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The decoder layers [start, end) of a LLaMA model computed in Java on the CPU: weights stay 16-bit (bf16/fp16, as
 * the checkpoint stores them), activations and accumulation are float32, so results equal the float32 reference up
 * to summation order. Weight products of up to {@value #TORCH_ROWS} rows (decode steps, short prompts) go through
 * {@link HalfMatMul}, which reads each weight once per call whatever the number of rows; longer chunks through
 * {@link TorchProducts} (libtorch's float32 product on weights widened per call), or with
 * {@code -Dconvllava.prefill=java} through HalfMatMul's packed product. A prompt is processed in chunks of
 * {@value #CHUNK} positions, so activation memory does not grow with its length. Not thread-safe: the owning shard
 * serialises calls (its buffers are reused by every call).
 */
public final class CpuDecoder implements AutoCloseable {
    /** Positions per block of KV memory: a session's cache grows by whole blocks. */
    public static final int KV_BLOCK = KvBlocks.BLOCK;
    /** Positions per chunk of a prompt: bounds activation memory; large enough for libtorch's products to pay. */
    static final int CHUNK = 512;
    /** From this many rows on, weight products run on libtorch (widening the weights once per product pays). */
    static final int TORCH_ROWS = 128;
    /** Matrices smaller than this are multiplied on the calling thread: waking the others costs more than it saves. */
    private static final long SERIAL_BYTES = 1 << 20;
    /** From this many rows on, attention runs on {@link CausalAttention} (query heads sharing each key block). */
    static final int BLOCK_ATTENTION_ROWS = 16;
    /** Below this much attention work per layer (rows x context x heads), threads cost more than they save. */
    private static final long PARALLEL_ATTENTION_WORK = 1 << 16;

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
    private final CausalAttention blockAttention;
    private Workspace ws; // grows to the longest chunk run so far

    private CpuDecoder(LlmConfig config, HalfMatrix embedding, List<CpuLayer> layers, float[] finalNorm,
                       HalfMatrix lmHead, HalfMatMul products) {
        this.config = config;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.rope = new RopeTable(config.headDim(), config.maxPositionEmbeddings(), config.ropeTheta());
        this.kernel = products;
        this.ws = new Workspace(config, 1); // decode steps need no more; a prompt's chunk makes it grow
        this.blockAttention = new CausalAttention(config.numAttentionHeads(), config.numKeyValueHeads(),
                config.headDim(), KV_BLOCK);
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
        HalfMatrix embedding = start == 0 ? w.matrix(Names.EMBEDDING, cfg.vocabSize(), hidden) : null;
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
        if (start == 0) {
            names.add(Names.EMBEDDING);
        }
        if (end == cfg.numHiddenLayers() && source.contains(Names.LM_HEAD)) {
            names.add(Names.LM_HEAD);
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

    /** An empty cache for one session. */
    public Session newSession() {
        return new Session(new KvBlocks(layers.size(), config.numKeyValueHeads() * config.headDim(),
                config.maxPositionEmbeddings()));
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
     * values to the session's cache.
     */
    public void forward(Session session, float[] x, int rows) {
        KvBlocks cache = session.cache;
        int hidden = config.hiddenSize();
        cache.reserve(cache.length() + rows);
        ws = ws.rows >= Math.min(rows, CHUNK) ? ws : new Workspace(config, Math.min(rows, CHUNK));
        for (int done = 0; done < rows; done += CHUNK) {
            int n = Math.min(CHUNK, rows - done);
            int first = cache.length();
            System.arraycopy(x, done * hidden, ws.h, 0, n * hidden);
            for (int i = 0; i < layers.size(); i++) {
                layer(layers.get(i), i, cache, first, n);
            }
            System.arraycopy(ws.h, 0, x, done * hidden, n * hidden);
            cache.advance(n);
        }
    }

    /** The last shard's final norm and lm_head on row {@code row} of x [rows, H]: float32 logits [vocab]. */
    public float[] logits(float[] x, int row) {
        int hidden = config.hiddenSize();
        System.arraycopy(x, row * hidden, ws.h, 0, hidden);
        rmsNorm(ws.h, finalNorm, ws.normed, 1);
        float[] logits = new float[config.vocabSize()];
        multiply(lmHead, ws.normed, 1, logits);
        return logits;
    }

    /** One block on n rows at positions [first, first + n): h += attn(norm1(h)); h += mlp(norm2(h)). */
    private void layer(CpuLayer l, int index, KvBlocks cache, int first, int n) {
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int d = config.headDim();
        int qSize = heads * d;
        int kvSize = kvHeads * d;
        int hidden = config.hiddenSize();
        int ffn = config.intermediateSize();
        rmsNorm(ws.h, l.inputNorm(), ws.normed, n);
        multiply(l.qkv(), ws.normed, n, ws.qkv);                 // [n, qSize + 2 kvSize]
        int width = qSize + 2 * kvSize;
        for (int r = 0; r < n; r++) {
            System.arraycopy(ws.qkv, r * width, ws.q, r * qSize, qSize);
            System.arraycopy(ws.qkv, r * width + qSize, ws.k, r * kvSize, kvSize);
            System.arraycopy(ws.qkv, r * width + qSize + kvSize, ws.v, r * kvSize, kvSize);
        }
        rope.apply(ws.q, n, heads, first);
        rope.apply(ws.k, n, kvHeads, first);
        for (int r = 0; r < n; r++) {
            cache.write(index, first + r, ws.k, ws.v, r);
        }
        attention(index, cache, first, n);                       // ws.q -> ws.attended [n, qSize]
        multiply(l.o(), ws.attended, n, ws.out);
        VectorMath.add(ws.out, ws.h, n * hidden);

        rmsNorm(ws.h, l.postNorm(), ws.normed, n);
        multiply(l.gateUp(), ws.normed, n, ws.gateUp);           // [n, 2F]: gate then up
        for (int r = 0; r < n; r++) {
            VectorMath.swiGlu(ws.gateUp, r * 2 * ffn, r * 2 * ffn + ffn, ws.activated, r * ffn, ffn);
        }
        multiply(l.down(), ws.activated, n, ws.out);
        VectorMath.add(ws.out, ws.h, n * hidden);
    }

    /**
     * Causal softmax(q k^T / sqrt(d)) v for each of n rows and each query head; query head h reads KV head
     * h / (heads / kvHeads) (grouped-query attention, HF {@code repeat_kv}).
     */
    private void attention(int layer, KvBlocks cache, int first, int n) {
        if (n >= BLOCK_ATTENTION_ROWS && CausalAttention.supports(KV_BLOCK)) {
            blockAttention.run(ws.q, ws.attended, first, n, b -> cache.keys(layer, b * KV_BLOCK),
                    b -> cache.values(layer, b * KV_BLOCK));
            return;
        }
        int heads = config.numAttentionHeads();
        long work = (long) n * (first + n) * heads;
        if (work >= PARALLEL_ATTENTION_WORK) {
            IntStream.range(0, n * heads).parallel().forEach(task -> attendOne(layer, cache, first, task, null));
        } else {
            for (int task = 0; task < n * heads; task++) {
                attendOne(layer, cache, first, task, ws.scores);
            }
        }
    }

    private void attendOne(int layer, KvBlocks cache, int first, int task, float[] scratch) {
        int heads = config.numAttentionHeads();
        int d = config.headDim();
        int group = heads / config.numKeyValueHeads();
        int r = task / heads;
        int h = task % heads;
        int position = first + r;
        int context = position + 1;
        float[] scores = scratch != null ? scratch : new float[context];
        int qOffset = (r * heads + h) * d;
        int kvOffset = (h / group) * d;
        float scale = (float) (1.0 / Math.sqrt(d));
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < context; j++) {
            float s = VectorMath.dot(ws.q, qOffset, cache.keys(layer, j), cache.offset(j) + kvOffset, d) * scale;
            scores[j] = s;
            max = Math.max(max, s);
        }
        float sum = 0;
        for (int j = 0; j < context; j++) {
            float e = (float) Math.exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        java.util.Arrays.fill(ws.attended, qOffset, qOffset + d, 0f);
        for (int j = 0; j < context; j++) {
            VectorMath.axpy(scores[j] / sum, cache.values(layer, j), cache.offset(j) + kvOffset, ws.attended,
                    qOffset, d);
        }
    }

    /** y = x W^T for n rows: the 16-bit kernels, or libtorch for many rows where {@link TorchProducts#enabled}. */
    private void multiply(HalfMatrix w, float[] x, int n, float[] y) {
        if (n >= TORCH_ROWS && torchPrefill) {
            torch.multiply(w, x, n, y);
        } else if (w.byteSize() * n < SERIAL_BYTES) {
            serialKernel.multiply(w, x, n, y);
        } else {
            kernel.multiply(w, x, n, y);
        }
    }

    /** LLaMA RMSNorm in float32, like HF: w * (x / sqrt(mean(x^2) + eps)), for n rows of [H]. */
    private void rmsNorm(float[] x, float[] weight, float[] out, int n) {
        int hidden = config.hiddenSize();
        float eps = (float) config.rmsNormEps();
        for (int r = 0; r < n; r++) {
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
    }

    /** Activation buffers of one chunk of up to {@code rows} rows, reused by every call that fits. */
    private static final class Workspace {
        final int rows;
        final float[] h;        // [rows, H] the residual stream
        final float[] normed;   // [rows, H]
        final float[] qkv;      // [rows, (heads + 2 kvHeads) * d]
        final float[] q;        // [rows, heads * d]
        final float[] k;        // [rows, kvHeads * d]
        final float[] v;        // [rows, kvHeads * d]
        final float[] attended; // [rows, heads * d]
        final float[] out;      // [rows, H]
        final float[] gateUp;   // [rows, 2F]
        final float[] activated; // [rows, F]
        final float[] scores;   // [maxPositions] for single-threaded attention

        Workspace(LlmConfig c, int rows) {
            this.rows = rows;
            int qSize = c.numAttentionHeads() * c.headDim();
            int kvSize = c.numKeyValueHeads() * c.headDim();
            h = new float[rows * c.hiddenSize()];
            normed = new float[rows * c.hiddenSize()];
            qkv = new float[rows * (qSize + 2 * kvSize)];
            q = new float[rows * qSize];
            k = new float[rows * kvSize];
            v = new float[rows * kvSize];
            attended = new float[rows * qSize];
            out = new float[rows * c.hiddenSize()];
            gateUp = new float[rows * 2 * c.intermediateSize()];
            activated = new float[rows * c.intermediateSize()];
            scores = new float[c.maxPositionEmbeddings()];
        }
    }
}
