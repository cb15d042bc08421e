package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.Widening.FLOATS;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Decode-step weight products of a TinyLlama-1.1B-shaped decoder (hidden 2048, FFN 5632, 22 layers, 32 / 4 heads,
 * vocab 32000), bf16-resident on {@link HalfMatMul} next to today's libtorch float32 path, against the machine's read
 * bandwidth measured in the same run. Every round measures everything once, in turn, so a busy neighbour slows all
 * of them alike; the summary gives the best and the median round.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx3g -XX:MaxDirectMemorySize=16g -cp CLASSPATH \
 *     io.convllava.llm.kernel.KernelBench [--threads N] [--rounds R]
 * </pre>
 *
 * Needs about 2.1 GB of heap (the bf16 weights), and off-heap 2.1 GB (the same weights in direct buffers), 4.1 GB
 * (libtorch's float32 copies) and 2 GiB (the bandwidth array).
 */
public final class KernelBench {
    private static final int HIDDEN = 2048;
    private static final int FFN = 5632;
    private static final int LAYERS = 22;
    private static final int QKV = 2048 + 2 * 4 * 64; // 32 query heads + 2 x 4 KV heads, head size 64
    private static final int VOCAB = 32000;
    private static final int[] BATCHES = {1, 4, 16, 64};
    private static final int[] LIBTORCH_BATCHES = {1, 16, 64};
    private static final int BANDWIDTH_BYTES = 2047 << 20; // the largest direct buffer is just under 2 GiB
    private static final int BANDWIDTH_CHUNK = 64 << 10;   // divides every weight matrix's size
    private static final String HEAP_SUM = "read bandwidth, Java vector sum of the weights";
    private static final String LIBTORCH_SUM = "read bandwidth, libtorch sum of 2 GiB";

    private KernelBench() {
    }

    /** One token's products: each layer's fused QKV, o_proj, fused gate+up, down, then lm_head; [rows, cols] each. */
    private static List<int[]> tokenShapes() {
        List<int[]> shapes = new ArrayList<>();
        for (int layer = 0; layer < LAYERS; layer++) {
            shapes.add(new int[] {QKV, HIDDEN});
            shapes.add(new int[] {HIDDEN, HIDDEN});
            shapes.add(new int[] {2 * FFN, HIDDEN});
            shapes.add(new int[] {HIDDEN, FFN});
        }
        shapes.add(new int[] {VOCAB, HIDDEN});
        return shapes;
    }

    public static void main(String[] args) {
        int threads = Runtime.getRuntime().availableProcessors();
        int rounds = 5;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (usage: KernelBench [--threads N] [--rounds R])");
            }
        }
        // libtorch's intra-op threads are read once, when the engine starts: the same count as the kernel's
        System.setProperty("ai.djl.pytorch.num_threads",
                System.getProperty("ai.djl.pytorch.num_threads", String.valueOf(threads)));
        System.setProperty("ai.djl.pytorch.num_interop_threads",
                System.getProperty("ai.djl.pytorch.num_interop_threads", "1"));
        run(threads, rounds);
    }

    private static void run(int threads, int rounds) {
        List<int[]> shapes = tokenShapes();
        System.out.printf("KernelBench: %s, %d threads, %s (%d float lanes), %d rounds%n",
                System.getProperty("os.arch"), threads, FLOATS, FLOATS.length(), rounds);
        SplittableRandom random = new SplittableRandom(42);
        List<HalfMatrix> weights = new ArrayList<>();       // on the heap: the kernel's fast path
        List<HalfMatrix> directWeights = new ArrayList<>(); // the same bytes off-heap, as a mapped file would be
        List<HalfMatrix> fp16Weights = new ArrayList<>();   // the same heap bytes read as fp16 (values near +-1)
        long tokenBytes = 0;
        for (int[] s : shapes) {
            ByteBuffer heap = randomBf16(s[0], s[1], random);
            weights.add(HalfMatrix.wrap(heap, HalfType.BF16, s[0], s[1]));
            fp16Weights.add(HalfMatrix.wrap(heap, HalfType.FP16, s[0], s[1]));
            ByteBuffer direct = ByteBuffer.allocateDirect(heap.capacity()).put(heap.duplicate()).flip();
            directWeights.add(HalfMatrix.wrap(direct, HalfType.BF16, s[0], s[1]));
            tokenBytes += 2L * s[0] * s[1];
        }
        System.out.printf("weights: %d bf16 matrices, %.3f GB per token%n", weights.size(), tokenBytes / 1e9);
        ByteBuffer bandwidthArray = ByteBuffer.allocateDirect(BANDWIDTH_BYTES).order(ByteOrder.nativeOrder());

        try (HalfMatMul kernel = new HalfMatMul(threads);
             NDManager manager = NDManager.newBaseManager("PyTorch")) {
            List<NDArray> transposed = new ArrayList<>(); // [cols, rows] float32: what the decoder multiplies by today
            for (HalfMatrix w : weights) {
                transposed.add(manager.create(transposedFloat32(w), new Shape(w.cols(), w.rows()), DataType.FLOAT32));
            }
            NDArray bandwidthTensor = manager.create(bandwidthArray, new Shape(BANDWIDTH_BYTES / 4), DataType.FLOAT32);
            Inputs inputs = new Inputs(BATCHES[BATCHES.length - 1], random);
            checkAgainstLibtorch(kernel, weights.get(weights.size() - 1), transposed.get(transposed.size() - 1),
                    inputs, manager);

            Map<String, double[]> seconds = new LinkedHashMap<>(); // measurement -> seconds per round
            for (int round = -1; round < rounds; round++) { // round -1 warms up the JIT and libtorch
                Map<String, Double> one = new LinkedHashMap<>();
                one.put(HEAP_SUM, bestOf(3, () -> vectorSum(kernel, weights)));
                one.put(LIBTORCH_SUM, bestOf(3, () -> {
                    try (NDArray sum = bandwidthTensor.sum()) {
                        sum.getFloat();
                    }
                }));
                for (int batch : BATCHES) {
                    one.put("bf16 kernel, batch " + batch,
                            bestOf(batch == 1 ? 3 : 1, () -> kernelStep(kernel, weights, inputs, batch)));
                }
                one.put("bf16 kernel, direct buffers, batch 1",
                        bestOf(3, () -> kernelStep(kernel, directWeights, inputs, 1)));
                one.put("fp16 kernel, batch 1", bestOf(3, () -> kernelStep(kernel, fp16Weights, inputs, 1)));
                for (int batch : LIBTORCH_BATCHES) {
                    one.put("libtorch float32, batch " + batch,
                            bestOf(batch == 1 ? 3 : 1, () -> libtorchStep(manager, transposed, inputs, batch)));
                }
                if (round >= 0) {
                    for (Map.Entry<String, Double> e : one.entrySet()) {
                        seconds.computeIfAbsent(e.getKey(), k -> new double[rounds])[round] = e.getValue();
                    }
                    System.out.printf("round %d: read %.1f (Java) %.1f (libtorch) GB/s, kernel batch 1 %.1f GB/s%n",
                            round + 1, tokenBytes / one.get(HEAP_SUM) / 1e9,
                            BANDWIDTH_BYTES / one.get(LIBTORCH_SUM) / 1e9,
                            tokenBytes / one.get("bf16 kernel, batch 1") / 1e9);
                }
            }
            report(seconds, tokenBytes);
        }
    }

    /** The table: best and median round of each measurement, as weight GB/s and tokens/s. */
    private static void report(Map<String, double[]> seconds, long tokenBytes) {
        double boundBest = 0;
        double boundMedian = 0;
        for (String name : List.of(HEAP_SUM, LIBTORCH_SUM)) {
            long bytes = name.equals(HEAP_SUM) ? tokenBytes : BANDWIDTH_BYTES;
            boundBest = Math.max(boundBest, bytes / min(seconds.get(name)));
            boundMedian = Math.max(boundMedian, bytes / median(seconds.get(name)));
        }
        System.out.printf("%n| measurement | best: GB/s | best: tokens/s | median: GB/s | median: tokens/s |%n");
        System.out.printf("|---|---|---|---|---|%n");
        for (Map.Entry<String, double[]> e : seconds.entrySet()) {
            String name = e.getKey();
            if (name.startsWith("read bandwidth")) {
                long bytes = name.equals(HEAP_SUM) ? tokenBytes : BANDWIDTH_BYTES;
                System.out.printf("| %s | %.1f | (bound %.2f) | %.1f | (bound %.2f) |%n", name,
                        bytes / min(e.getValue()) / 1e9, bytes / min(e.getValue()) / tokenBytes,
                        bytes / median(e.getValue()) / 1e9, bytes / median(e.getValue()) / tokenBytes);
                continue;
            }
            int batch = Integer.parseInt(name.substring(name.lastIndexOf(' ') + 1));
            long bytes = name.startsWith("libtorch") ? 2 * tokenBytes : tokenBytes; // float32 streams twice the bytes
            System.out.printf("| %s | %.1f | %.2f | %.1f | %.2f |%n", name, bytes / min(e.getValue()) / 1e9,
                    batch / min(e.getValue()), bytes / median(e.getValue()) / 1e9, batch / median(e.getValue()));
        }
        double kernelBest = tokenBytes / min(seconds.get("bf16 kernel, batch 1"));
        double kernelMedian = tokenBytes / median(seconds.get("bf16 kernel, batch 1"));
        System.out.printf("%nbound = the faster read-bandwidth measurement; bf16 kernel batch 1 / bound: best %.0f%% "
                        + "(%.1f / %.1f GB/s), median %.0f%% (%.1f / %.1f GB/s)%n",
                100 * kernelBest / boundBest, kernelBest / 1e9, boundBest / 1e9,
                100 * kernelMedian / boundMedian, kernelMedian / 1e9, boundMedian / 1e9);
    }

    /** One decode step at this batch: every weight of the token once, x [batch, cols] -> y [batch, rows]. */
    private static void kernelStep(HalfMatMul kernel, List<HalfMatrix> weights, Inputs inputs, int batch) {
        for (HalfMatrix w : weights) {
            kernel.multiply(w, inputs.forCols(w.cols()), batch, inputs.output);
        }
    }

    /** The same step as today's decoder computes it: x [batch, cols] matMul wT [cols, rows], float32. */
    private static void libtorchStep(NDManager manager, List<NDArray> transposed, Inputs inputs, int batch) {
        try (NDManager step = manager.newSubManager()) {
            NDArray hidden = step.create(Arrays.copyOf(inputs.hidden, batch * HIDDEN), new Shape(batch, HIDDEN));
            NDArray ffn = step.create(Arrays.copyOf(inputs.ffn, batch * FFN), new Shape(batch, FFN));
            for (NDArray wT : transposed) {
                (wT.getShape().get(0) == HIDDEN ? hidden : ffn).matMul(wT);
            }
        }
    }

    /** Reads every weight byte once as floats on all threads (the kernel's chunks and pool), four accumulators. */
    private static void vectorSum(HalfMatMul kernel, List<HalfMatrix> weights) {
        for (HalfMatrix w : weights) {
            byte[] bytes = w.heapArray();
            int chunks = (int) (w.byteSize() / BANDWIDTH_CHUNK);
            float[] partial = new float[chunks];
            kernel.pool().run(chunks, chunk -> {
                FloatVector a0 = FloatVector.zero(FLOATS);
                FloatVector a1 = FloatVector.zero(FLOATS);
                FloatVector a2 = FloatVector.zero(FLOATS);
                FloatVector a3 = FloatVector.zero(FLOATS);
                int step = FLOATS.vectorByteSize();
                for (int at = chunk * BANDWIDTH_CHUNK, end = at + BANDWIDTH_CHUNK; at < end; at += 4 * step) {
                    a0 = a0.add(FloatVector.fromByteArray(FLOATS, bytes, at, ByteOrder.LITTLE_ENDIAN));
                    a1 = a1.add(FloatVector.fromByteArray(FLOATS, bytes, at + step, ByteOrder.LITTLE_ENDIAN));
                    a2 = a2.add(FloatVector.fromByteArray(FLOATS, bytes, at + 2 * step, ByteOrder.LITTLE_ENDIAN));
                    a3 = a3.add(FloatVector.fromByteArray(FLOATS, bytes, at + 3 * step, ByteOrder.LITTLE_ENDIAN));
                }
                partial[chunk] = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
            });
        }
    }

    /** The last product of the step (lm_head) on both paths: the kernel must agree with libtorch up to rounding. */
    private static void checkAgainstLibtorch(HalfMatMul kernel, HalfMatrix w, NDArray wT, Inputs inputs,
                                             NDManager manager) {
        int batch = 3;
        kernel.multiply(w, inputs.hidden, batch, inputs.output);
        try (NDManager tmp = manager.newSubManager()) {
            float[] expected = tmp.create(Arrays.copyOf(inputs.hidden, batch * HIDDEN), new Shape(batch, HIDDEN))
                    .matMul(wT).toFloatArray();
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < expected.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(expected[i] - inputs.output[i]));
                maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
            }
            System.out.printf("check: lm_head batch %d, kernel vs libtorch float32: max |diff| %.2e, max |y| %.2e%n",
                    batch, maxDiff, maxAbs);
            if (maxDiff > 1e-4 * maxAbs) {
                throw new IllegalStateException("the kernel disagrees with libtorch");
            }
        }
    }

    /** Seconds of the fastest of n runs. */
    private static double bestOf(int n, Runnable body) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            body.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** [rows, cols] bf16 values uniform in about (-0.1, 0.1), in a heap buffer. */
    private static ByteBuffer randomBf16(int rows, int cols, SplittableRandom random) {
        ByteBuffer bytes = ByteBuffer.allocate(2 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * cols; i++) {
            bytes.putShort(2 * i, (short) (Float.floatToRawIntBits((float) random.nextDouble(-0.1, 0.1)) >>> 16));
        }
        return bytes;
    }

    /** w [rows, cols] widened and transposed to float32 [cols, rows] in a native-order direct buffer. */
    private static ByteBuffer transposedFloat32(HalfMatrix w) {
        int rows = w.rows();
        int cols = w.cols();
        ByteBuffer out = ByteBuffer.allocateDirect(4 * rows * cols).order(ByteOrder.nativeOrder());
        int tile = 64;
        for (int r0 = 0; r0 < rows; r0 += tile) {
            for (int c0 = 0; c0 < cols; c0 += tile) {
                for (int r = r0; r < Math.min(rows, r0 + tile); r++) {
                    for (int c = c0; c < Math.min(cols, c0 + tile); c++) {
                        out.putFloat(4 * (c * rows + r), w.get(r, c));
                    }
                }
            }
        }
        return out;
    }

    /** Random activations for both input widths, [64, cols] each, and one output array large enough for any step. */
    private static final class Inputs {
        final float[] hidden; // [maxBatch, HIDDEN]
        final float[] ffn;    // [maxBatch, FFN]
        final float[] output; // [maxBatch, VOCAB]

        Inputs(int maxBatch, SplittableRandom random) {
            hidden = random(maxBatch * HIDDEN, random);
            ffn = random(maxBatch * FFN, random);
            output = new float[maxBatch * VOCAB];
        }

        float[] forCols(int cols) {
            return cols == HIDDEN ? hidden : ffn;
        }

        private static float[] random(int n, SplittableRandom random) {
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = (float) random.nextDouble(-1, 1);
            }
            return values;
        }
    }
}
