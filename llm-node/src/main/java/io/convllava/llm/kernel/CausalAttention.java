package io.convllava.llm.kernel;

import java.util.stream.IntStream;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention of new rows over a KV cache kept in blocks of positions, on vector lanes:
 * out[r, h] = softmax_j(q[r, h] . k[j, h / group] / sqrt(d), j <= position of r) v[j, h / group] (HF
 * {@code repeat_kv}: query head h reads KV head h / (heads / kvHeads)), for a prompt chunk ({@link #run}) and for the
 * single rows of many sessions' decode steps ({@link #runRows}).
 *
 * <p>The cache's key blocks are column-major, [kvHeads * d, block]: the scores of consecutive keys fill vector lanes,
 * d FMAs per vector of keys, with no horizontal sum per key. The work is split into tasks of one KV head and up to
 * {@value #ROW_TILE} rows, i.e. the queries that read the same keys. A task walks the cache block by block, and every
 * query of the task takes the block while it is in L1: its scores, the running maximum and sum of an online softmax,
 * and the weighted values, two queries at a time sharing each key and value load (a lone query alone).
 *
 * <p>Every query's numbers come from the same steps in the same order wherever it runs: alone or paired, in a chunk
 * of any size or as a decode row, on a thread of its own or not. A row's result depends only on its query, its
 * position and the cache, so a prompt split into other chunks, or replayed as single rows, gets the same bits. The
 * result equals the two-pass softmax up to rounding (float32 throughout; exp by {@link FastExp}, the same bits at
 * every JIT tier; every product-sum is fused).
 */
public final class CausalAttention {
    /** Rows of the chunk per task. */
    static final int ROW_TILE = 16;
    private static final VectorSpecies<Float> F = Widening.FLOATS;
    private static final int LANES = Widening.LANES;
    /** Keys whose scores are computed per pass: four vectors, for four independent sums per query. */
    private static final int KEYS_PER_PASS = 4 * LANES;
    /** Below this much work (rows x context x heads), the tasks run on the calling thread: waking others costs more. */
    private static final long PARALLEL_WORK = 1 << 18;

    private final int heads;
    private final int kvHeads;
    private final int group;
    private final int d;
    private final int rowWidth;
    private final int block;
    private final float scale;
    private final ThreadLocal<Scratch> scratch;

    /**
     * @param block positions per cache block: a multiple of {@code 4 x} the vector lane count (64 with AVX2 or
     *              AVX-512 is)
     */
    public CausalAttention(int heads, int kvHeads, int headDim, int block) {
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " query heads do not split into " + kvHeads + " KV groups");
        }
        if (block % KEYS_PER_PASS != 0) {
            throw new IllegalArgumentException("block " + block + " is not a multiple of " + KEYS_PER_PASS);
        }
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.group = heads / kvHeads;
        this.d = headDim;
        this.rowWidth = kvHeads * headDim;
        this.block = block;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        int queries = group * ROW_TILE + 1; // + 1: a lone last query is paired with a dummy
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(queries, headDim, block));
    }

    /**
     * Rows [offset, offset + n) of out [*, heads * d] for the same rows of q [*, heads * d] (RoPE applied), queries
     * at positions [first, first + n) whose keys and values are already in the cache: {@code keys[b]}
     * ([kvHeads * d, block]) and {@code values[b]} ([block, kvHeads * d]) are its blocks, present for every block up
     * to position first + n - 1.
     */
    public void run(float[] q, float[] out, int offset, int first, int n, float[][] keys, float[][] values) {
        int tiles = (n + ROW_TILE - 1) / ROW_TILE;
        forEachTask(tiles * kvHeads, (long) n * (first + n) * heads, (task, s) -> {
            // the largest tiles (the last rows see the most keys) first
            int tile = tiles - 1 - task / kvHeads;
            int g = task % kvHeads;
            tile(s, q, out, offset, first, tile * ROW_TILE, Math.min(n, (tile + 1) * ROW_TILE), g, keys, values);
        });
    }

    /**
     * One row each of {@code count} sessions (decode steps): row {@code rows[i]} of q and out, at position
     * {@code positions[i]} of the cache whose blocks are {@code keys[i]} and {@code values[i]} (as in {@link #run}).
     */
    public void runRows(float[] q, float[] out, int count, int[] rows, int[] positions, float[][][] keys,
                        float[][][] values) {
        long work = 0;
        for (int i = 0; i < count; i++) {
            work += (positions[i] + 1L) * heads;
        }
        forEachTask(count * kvHeads, work, (task, s) -> {
            int i = task / kvHeads;
            tile(s, q, out, rows[i], positions[i], 0, 1, task % kvHeads, keys[i], values[i]);
        });
    }

    /**
     * Runs tasks [0, tasks) with each thread's scratch: in parallel from {@value #PARALLEL_WORK} of work, else on the
     * calling thread with its scratch looked up once (a thread-local lookup per task is a hash probe that misses often
     * on threads with many thread-locals, as gRPC's have).
     */
    private void forEachTask(int tasks, long work, Task task) {
        if (work >= PARALLEL_WORK) {
            IntStream.range(0, tasks).parallel().forEach(t -> task.run(t, scratch.get()));
            return;
        }
        Scratch s = scratch.get();
        for (int t = 0; t < tasks; t++) {
            task.run(t, s);
        }
    }

    private interface Task {
        void run(int task, Scratch scratch);
    }

    /** Rows [r0, r1) of KV head g's query heads. */
    private void tile(Scratch s, float[] q, float[] out, int offset, int first, int r0, int r1, int g, float[][] keys,
                      float[][] values) {
        int count = (r1 - r0) * group;
        // query i of the task: row r0 + i / group, head g * group + i % group; qOffset = its [d] in q and out
        for (int i = 0; i < count; i++) {
            s.qOffset[i] = ((offset + r0 + i / group) * heads + g * group + i % group) * d;
            s.position[i] = first + r0 + i / group;
        }
        java.util.Arrays.fill(s.max, 0, count + 1, Float.NEGATIVE_INFINITY); // + 1: the dummy partner's slot
        java.util.Arrays.fill(s.sum, 0, count + 1, 0f);
        java.util.Arrays.fill(s.acc, 0, (count + 1) * d, 0f);
        int lastPosition = first + r1 - 1;
        int kvOffset = g * d;
        for (int b = 0; b * block <= lastPosition; b++) {
            int start = b * block;
            int filled = Math.min(block, lastPosition + 1 - start); // keys of this block any query may see
            float[] k = keys[b];
            float[] v = values[b];
            if (count == 1) {
                scores(q, s.qOffset[0], k, kvOffset, s.scores0);
                int seen = softmaxStep(s, 0, s.scores0, s.position[0] - start, filled);
                accumulate(s, 0, seen, v, kvOffset);
                continue;
            }
            for (int i = 0; i < count; i += 2) {
                int i1 = i + 1 < count ? i + 1 : i; // an odd last query is computed twice, stored once
                if (s.position[i] < start && s.position[i1] < start) {
                    continue; // the block is past both queries
                }
                scores(q, s.qOffset[i], s.qOffset[i1], k, kvOffset, s.scores0, s.scores1);
                int seen0 = softmaxStep(s, i, s.scores0, s.position[i] - start, filled);
                int seen1 = softmaxStep(s, i1 == i ? count : i1, s.scores1, s.position[i1] - start, filled);
                accumulate(s, i, i1 == i ? count : i1, Math.max(seen0, seen1), v, kvOffset);
            }
        }
        for (int i = 0; i < count; i++) {
            float inv = 1f / s.sum[i];
            int o = s.qOffset[i];
            int a = i * d;
            for (int c = 0; c < d; c++) {
                out[o + c] = s.acc[a + c] * inv;
            }
        }
    }

    /**
     * scores{0,1}[j] = q{0,1} . key j for every j of the block (two queries sharing each key load), from the block's
     * columns [kvOffset, kvOffset + d): for each key a chain of FMAs over the columns in order.
     */
    private void scores(float[] q, int q0, int q1, float[] keysT, int kvOffset, float[] scores0, float[] scores1) {
        for (int j = 0; j < block; j += KEYS_PER_PASS) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            FloatVector b0 = FloatVector.zero(F);
            FloatVector b1 = FloatVector.zero(F);
            FloatVector b2 = FloatVector.zero(F);
            FloatVector b3 = FloatVector.zero(F);
            for (int c = 0; c < d; c++) {
                int k = (kvOffset + c) * block + j;
                FloatVector k0 = FloatVector.fromArray(F, keysT, k);
                FloatVector k1 = FloatVector.fromArray(F, keysT, k + LANES);
                FloatVector k2 = FloatVector.fromArray(F, keysT, k + 2 * LANES);
                FloatVector k3 = FloatVector.fromArray(F, keysT, k + 3 * LANES);
                FloatVector x = FloatVector.broadcast(F, q[q0 + c]);
                FloatVector y = FloatVector.broadcast(F, q[q1 + c]);
                a0 = k0.fma(x, a0);
                a1 = k1.fma(x, a1);
                a2 = k2.fma(x, a2);
                a3 = k3.fma(x, a3);
                b0 = k0.fma(y, b0);
                b1 = k1.fma(y, b1);
                b2 = k2.fma(y, b2);
                b3 = k3.fma(y, b3);
            }
            a0.intoArray(scores0, j);
            a1.intoArray(scores0, j + LANES);
            a2.intoArray(scores0, j + 2 * LANES);
            a3.intoArray(scores0, j + 3 * LANES);
            b0.intoArray(scores1, j);
            b1.intoArray(scores1, j + LANES);
            b2.intoArray(scores1, j + 2 * LANES);
            b3.intoArray(scores1, j + 3 * LANES);
        }
    }

    /** scores[j] = q . key j for one query: the same chains as {@link #scores(float[], int, int, float[], int,
     * float[], float[])}. */
    private void scores(float[] q, int q0, float[] keysT, int kvOffset, float[] scores) {
        for (int j = 0; j < block; j += KEYS_PER_PASS) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            for (int c = 0; c < d; c++) {
                int k = (kvOffset + c) * block + j;
                FloatVector x = FloatVector.broadcast(F, q[q0 + c]);
                a0 = FloatVector.fromArray(F, keysT, k).fma(x, a0);
                a1 = FloatVector.fromArray(F, keysT, k + LANES).fma(x, a1);
                a2 = FloatVector.fromArray(F, keysT, k + 2 * LANES).fma(x, a2);
                a3 = FloatVector.fromArray(F, keysT, k + 3 * LANES).fma(x, a3);
            }
            a0.intoArray(scores, j);
            a1.intoArray(scores, j + LANES);
            a2.intoArray(scores, j + 2 * LANES);
            a3.intoArray(scores, j + 3 * LANES);
        }
    }

    /**
     * Query i's online-softmax step over one block: scales its scores, masks keys past {@code last} (its position in
     * the block) or past {@code filled}, and turns the visible ones into exp(score - new maximum) in place; rescales
     * its sum and accumulator to the new maximum and adds the block's exps to the sum. Returns the visible key count
     * (0: nothing to add).
     */
    private int softmaxStep(Scratch s, int i, float[] scores, int last, int filled) {
        int visible = Math.min(filled, last + 1);
        if (visible <= 0) {
            java.util.Arrays.fill(scores, 0, block, 0f);
            return 0;
        }
        int whole = F.loopBound(visible);
        FloatVector scaleV = FloatVector.broadcast(F, scale);
        FloatVector maxV = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < whole; j += LANES) {
            FloatVector x = FloatVector.fromArray(F, scores, j).mul(scaleV);
            x.intoArray(scores, j);
            maxV = maxV.max(x);
        }
        float blockMax = maxV.reduceLanes(VectorOperators.MAX); // a maximum is exact in any order
        for (int j = whole; j < visible; j++) {
            scores[j] *= scale;
            blockMax = Math.max(blockMax, scores[j]);
        }
        float oldMax = s.max[i];
        float newMax = Math.max(oldMax, blockMax);
        if (newMax > oldMax && s.sum[i] != 0f) {
            float factor = (float) Math.exp(oldMax - newMax);
            s.sum[i] *= factor;
            int a = i * d;
            FloatVector f = FloatVector.broadcast(F, factor);
            int c = 0;
            for (int bound = F.loopBound(d); c < bound; c += LANES) {
                FloatVector.fromArray(F, s.acc, a + c).mul(f).intoArray(s.acc, a + c);
            }
            for (; c < d; c++) {
                s.acc[a + c] *= factor;
            }
        }
        s.max[i] = newMax;
        FloatVector m = FloatVector.broadcast(F, newMax);
        FloatVector total = FloatVector.zero(F);
        for (int j = 0; j < whole; j += LANES) {
            FloatVector e = FastExp.exp(FloatVector.fromArray(F, scores, j).sub(m));
            e.intoArray(scores, j);
            total = total.add(e);
        }
        float sum = total.reduceLanes(VectorOperators.ADD);
        for (int j = whole; j < visible; j++) {
            float e = FastExp.exp(scores[j] - newMax);
            scores[j] = e;
            sum += e;
        }
        java.util.Arrays.fill(scores, visible, block, 0f);
        s.sum[i] += sum;
        return visible;
    }

    /**
     * acc[i] += sum_j scores0[j] v[j] and acc[i1] += sum_j scores1[j] v[j] over the block's first {@code keysUsed}
     * keys (masked ones have weight 0); {@code i1 == count} is the dummy partner of a lone query. Each accumulator
     * element is one FMA chain over the keys in order, whichever of the passes (4, 2 or 1 vectors, or scalar) has it.
     */
    private void accumulate(Scratch s, int i, int i1, int keysUsed, float[] v, int kvOffset) {
        float[] acc = s.acc;
        float[] w0 = s.scores0;
        float[] w1 = s.scores1;
        int a0 = i * d;
        int a1 = i1 * d;
        int c = 0;
        for (int bound = d - d % (4 * LANES); c < bound; c += 4 * LANES) {
            FloatVector x0 = FloatVector.fromArray(F, acc, a0 + c);
            FloatVector x1 = FloatVector.fromArray(F, acc, a0 + c + LANES);
            FloatVector x2 = FloatVector.fromArray(F, acc, a0 + c + 2 * LANES);
            FloatVector x3 = FloatVector.fromArray(F, acc, a0 + c + 3 * LANES);
            FloatVector y0 = FloatVector.fromArray(F, acc, a1 + c);
            FloatVector y1 = FloatVector.fromArray(F, acc, a1 + c + LANES);
            FloatVector y2 = FloatVector.fromArray(F, acc, a1 + c + 2 * LANES);
            FloatVector y3 = FloatVector.fromArray(F, acc, a1 + c + 3 * LANES);
            for (int j = 0; j < keysUsed; j++) {
                int row = j * rowWidth + kvOffset + c;
                FloatVector v0 = FloatVector.fromArray(F, v, row);
                FloatVector v1 = FloatVector.fromArray(F, v, row + LANES);
                FloatVector v2 = FloatVector.fromArray(F, v, row + 2 * LANES);
                FloatVector v3 = FloatVector.fromArray(F, v, row + 3 * LANES);
                FloatVector e = FloatVector.broadcast(F, w0[j]);
                FloatVector f = FloatVector.broadcast(F, w1[j]);
                x0 = v0.fma(e, x0);
                x1 = v1.fma(e, x1);
                x2 = v2.fma(e, x2);
                x3 = v3.fma(e, x3);
                y0 = v0.fma(f, y0);
                y1 = v1.fma(f, y1);
                y2 = v2.fma(f, y2);
                y3 = v3.fma(f, y3);
            }
            x0.intoArray(acc, a0 + c);
            x1.intoArray(acc, a0 + c + LANES);
            x2.intoArray(acc, a0 + c + 2 * LANES);
            x3.intoArray(acc, a0 + c + 3 * LANES);
            y0.intoArray(acc, a1 + c);
            y1.intoArray(acc, a1 + c + LANES);
            y2.intoArray(acc, a1 + c + 2 * LANES);
            y3.intoArray(acc, a1 + c + 3 * LANES);
        }
        for (int bound = d - d % LANES; c < bound; c += LANES) {
            FloatVector x0 = FloatVector.fromArray(F, acc, a0 + c);
            FloatVector y0 = FloatVector.fromArray(F, acc, a1 + c);
            for (int j = 0; j < keysUsed; j++) {
                FloatVector v0 = FloatVector.fromArray(F, v, j * rowWidth + kvOffset + c);
                x0 = v0.fma(FloatVector.broadcast(F, w0[j]), x0);
                y0 = v0.fma(FloatVector.broadcast(F, w1[j]), y0);
            }
            x0.intoArray(acc, a0 + c);
            y0.intoArray(acc, a1 + c);
        }
        for (; c < d; c++) {
            float x = acc[a0 + c];
            float y = acc[a1 + c];
            for (int j = 0; j < keysUsed; j++) {
                float value = v[j * rowWidth + kvOffset + c];
                x = Math.fma(w0[j], value, x);
                y = Math.fma(w1[j], value, y);
            }
            acc[a0 + c] = x;
            acc[a1 + c] = y;
        }
    }

    /** acc[i] += sum_j scores0[j] v[j] for one query: the same chains as the pair's. */
    private void accumulate(Scratch s, int i, int keysUsed, float[] v, int kvOffset) {
        float[] acc = s.acc;
        float[] w = s.scores0;
        int a = i * d;
        int c = 0;
        for (int bound = d - d % (2 * LANES); c < bound; c += 2 * LANES) {
            FloatVector x0 = FloatVector.fromArray(F, acc, a + c);
            FloatVector x1 = FloatVector.fromArray(F, acc, a + c + LANES);
            for (int j = 0; j < keysUsed; j++) {
                int row = j * rowWidth + kvOffset + c;
                FloatVector e = FloatVector.broadcast(F, w[j]);
                x0 = FloatVector.fromArray(F, v, row).fma(e, x0);
                x1 = FloatVector.fromArray(F, v, row + LANES).fma(e, x1);
            }
            x0.intoArray(acc, a + c);
            x1.intoArray(acc, a + c + LANES);
        }
        for (int bound = d - d % LANES; c < bound; c += LANES) {
            FloatVector x0 = FloatVector.fromArray(F, acc, a + c);
            for (int j = 0; j < keysUsed; j++) {
                x0 = FloatVector.fromArray(F, v, j * rowWidth + kvOffset + c).fma(FloatVector.broadcast(F, w[j]), x0);
            }
            x0.intoArray(acc, a + c);
        }
        for (; c < d; c++) {
            float x = acc[a + c];
            for (int j = 0; j < keysUsed; j++) {
                x = Math.fma(w[j], v[j * rowWidth + kvOffset + c], x);
            }
            acc[a + c] = x;
        }
    }

    /** One thread's buffers: a task's accumulators and softmax state, two score rows. */
    private static final class Scratch {
        final int[] qOffset;
        final int[] position;
        final float[] max;
        final float[] sum;
        final float[] acc;     // [queries, d]
        final float[] scores0; // [block]
        final float[] scores1; // [block]

        Scratch(int queries, int d, int block) {
            qOffset = new int[queries];
            position = new int[queries];
            max = new float[queries];
            sum = new float[queries];
            acc = new float[queries * d];
            scores0 = new float[block];
            scores1 = new float[block];
        }
    }
}
