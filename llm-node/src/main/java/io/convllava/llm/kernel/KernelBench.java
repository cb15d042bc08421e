package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.Widening.FLOATS;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Decode-step weight products of a TinyLlama-1.1B-shaped decoder (hidden 2048, FFN 5632, 22 layers, 32 / 4 heads,
 * vocab 32000), bf16-resident on {@link HalfMatMul} next to today's libtorch float32 path, against the machine's read
 * bandwidth measured in the same run: the fastest rate at which anything here reads memory (a Java vector sum over the
 * bf16 weights, a libtorch sum over its float32 copies, libtorch's batch-1 product). Every round measures everything
 * once, in turn, so a busy neighbour slows all of them alike; the summary gives the best and the median round. The
 * kernel runs on the weights packed as the decoder keeps them ({@link HalfMatrix#packed}), and on the stored row-major
 * bytes at batch 1 and 16 (the kernel before the packed layout).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx5g -XX:MaxDirectMemorySize=8g -cp CLASSPATH \
 *     io.convllava.llm.kernel.KernelBench [--threads N] [--rounds R]
 * </pre>
 *
 * Memory: 4.2 GB of heap (the bf16 weights, row-major and packed), 4.1 GB of direct buffers (libtorch's float32
 * copies) and a 2.1 GB temporary file mapped back (the same bf16 weights off-heap, in the page cache).
 */
public final class KernelBench {
    private static final int HIDDEN = 2048;
    private static final int FFN = 5632;
    private static final int LAYERS = 22;
    private static final int QKV = 2048 + 2 * 4 * 64; // 32 query heads + 2 x 4 KV heads, head size 64
    private static final int VOCAB = 32000;
    private static final int[] BATCHES = {1, 4, 16, 64};
    private static final int[] LIBTORCH_BATCHES = {1, 16, 64};
    private static final int BANDWIDTH_CHUNK = 64 << 10; // divides every weight matrix's size
    private static final Runnable NOTHING = () -> { };

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

    public static void main(String[] args) throws IOException {
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

    private static void run(int threads, int rounds) throws IOException {
        List<int[]> shapes = tokenShapes();
        System.out.printf("KernelBench: %s, %d threads, %s (%d float lanes), %d rounds%n",
                System.getProperty("os.arch"), threads, FLOATS, FLOATS.length(), rounds);
        SplittableRandom random = new SplittableRandom(42);
        List<HalfMatrix> rowMajor = new ArrayList<>();    // on the heap, as stored
        List<HalfMatrix> fp16Weights = new ArrayList<>(); // the same heap bytes read as fp16 (values near +-1)
        long tokenBytes = 0;
        for (int[] s : shapes) {
            ByteBuffer heap = randomBf16(s[0], s[1], random);
            rowMajor.add(HalfMatrix.wrap(heap, HalfType.BF16, s[0], s[1]));
            fp16Weights.add(HalfMatrix.wrap(heap, HalfType.FP16, s[0], s[1]));
            tokenBytes += 2L * s[0] * s[1];
        }
        List<MappedByteBuffer> mapped = mappedCopy(rowMajor); // off-heap: a checkpoint mapped in place
        List<HalfMatrix> mappedWeights = new ArrayList<>();
        List<HalfMatrix> weights = new ArrayList<>(); // packed, as the decoder keeps them: the kernel's fast path
        for (int i = 0; i < mapped.size(); i++) {
            HalfMatrix w = rowMajor.get(i);
            mappedWeights.add(HalfMatrix.wrap(mapped.get(i), w.type(), w.rows(), w.cols()));
            weights.add(HalfMatrix.packed(w));
        }
        System.out.printf("weights: %d bf16 matrices, %.3f GB per token%n", weights.size(), tokenBytes / 1e9);

        try (HalfMatMul kernel = new HalfMatMul(threads);
             NDManager manager = NDManager.newBaseManager("PyTorch")) {
            List<NDArray> transposed = new ArrayList<>(); // [cols, rows] float32: what the decoder multiplies by today
            for (HalfMatrix w : weights) {
                transposed.add(manager.create(transposedFloat32(w), new Shape(w.cols(), w.rows()), DataType.FLOAT32));
            }
            Inputs inputs = new Inputs(BATCHES[BATCHES.length - 1], random);
            checkAgainstLibtorch(kernel, weights.get(weights.size() - 1), transposed.get(transposed.size() - 1),
                    inputs, manager);

            List<Measurement> measurements = new ArrayList<>(); // bf16 batch 1 first, then the rest
            for (int batch : BATCHES) {
                measurements.add(new Measurement("bf16 kernel, batch " + batch, tokenBytes, batch, batch == 1 ? 3 : 1,
                        false, NOTHING, () -> kernelStep(kernel, weights, inputs, batch)));
            }
            for (int batch : new int[] {1, 16}) {
                measurements.add(new Measurement("bf16 kernel, row-major, batch " + batch, tokenBytes, batch,
                        batch == 1 ? 3 : 1, false, NOTHING, () -> kernelStep(kernel, rowMajor, inputs, batch)));
            }
            // the mapped pages are read in first, untimed: idle file pages are reclaimed (see docs/benchmarks.md)
            measurements.add(new Measurement("bf16 kernel, mapped file, batch 1", tokenBytes, 1, 3, false,
                    () -> mapped.forEach(MappedByteBuffer::load), () -> kernelStep(kernel, mappedWeights, inputs, 1)));
            measurements.add(new Measurement("fp16 kernel, batch 1", tokenBytes, 1, 3, false, NOTHING,
                    () -> kernelStep(kernel, fp16Weights, inputs, 1)));
            measurements.add(new Measurement("read: Java vector sum of the bf16 weights", tokenBytes, 0, 3, true,
                    NOTHING, () -> vectorSum(kernel, rowMajor)));
            measurements.add(new Measurement("read: libtorch sum of its float32 weights", 2 * tokenBytes, 0, 3, true,
                    NOTHING, () -> libtorchSum(transposed)));
            for (int batch : LIBTORCH_BATCHES) {
                measurements.add(new Measurement("libtorch float32, batch " + batch, 2 * tokenBytes, batch,
                        batch == 1 ? 3 : 1, batch == 1, NOTHING,
                        () -> libtorchStep(manager, transposed, inputs, batch)));
            }
            double[][] seconds = new double[measurements.size()][rounds]; // [measurement, round]
            for (int round = -1; round < rounds; round++) { // round -1 warms up the JIT and libtorch
                long start = System.nanoTime();
                double[] one = new double[measurements.size()];
                for (int m = 0; m < measurements.size(); m++) {
                    one[m] = measurements.get(m).bestSeconds();
                }
                if (round >= 0) {
                    for (int m = 0; m < one.length; m++) {
                        seconds[m][round] = one[m];
                    }
                    System.out.printf("round %d (%.0f s): bound %.1f GB/s, bf16 kernel batch 1 %.1f GB/s%n", round + 1,
                            (System.nanoTime() - start) / 1e9, bound(measurements, one), tokenBytes / one[0] / 1e9);
                }
            }
            report(measurements, seconds, tokenBytes);
        }
    }

    /** The table: best and median round of each measurement, as GB/s streamed and tokens/s. */
    private static void report(List<Measurement> measurements, double[][] seconds, long tokenBytes) {
        System.out.printf("%n| measurement | best: GB/s | best: tokens/s | median: GB/s | median: tokens/s |%n");
        System.out.printf("|---|---|---|---|---|%n");
        double[] best = new double[measurements.size()];
        double[] median = new double[measurements.size()];
        for (int m = 0; m < measurements.size(); m++) {
            Measurement measurement = measurements.get(m);
            best[m] = Arrays.stream(seconds[m]).min().orElseThrow();
            median[m] = median(seconds[m]);
            String bestRate = measurement.tokens() > 0 ? String.format("%.2f", measurement.tokens() / best[m])
                    : String.format("(bound %.2f)", measurement.bytes() / best[m] / tokenBytes);
            String medianRate = measurement.tokens() > 0 ? String.format("%.2f", measurement.tokens() / median[m])
                    : String.format("(bound %.2f)", measurement.bytes() / median[m] / tokenBytes);
            System.out.printf("| %s | %.1f | %s | %.1f | %s |%n", measurement.name(),
                    measurement.bytes() / best[m] / 1e9, bestRate, measurement.bytes() / median[m] / 1e9, medianRate);
        }
        double boundBest = bound(measurements, best);
        double boundMedian = bound(measurements, median);
        double kernelBest = tokenBytes / best[0] / 1e9;
        double kernelMedian = tokenBytes / median[0] / 1e9;
        System.out.printf("%nbound = the fastest read rate among the read probes and libtorch's batch-1 product: "
                        + "%.1f GB/s = %.2f tokens/s (median round %.1f GB/s)%n", boundBest,
                boundBest * 1e9 / tokenBytes, boundMedian);
        System.out.printf("bf16 kernel, batch 1 / bound: best %.0f%% (%.1f / %.1f GB/s), median %.0f%% "
                        + "(%.1f / %.1f GB/s)%n", 100 * kernelBest / boundBest, kernelBest, boundBest,
                100 * kernelMedian / boundMedian, kernelMedian, boundMedian);
    }

    /** GB/s: the fastest read rate among the measurements that count towards the bound, given their seconds. */
    private static double bound(List<Measurement> measurements, double[] seconds) {
        double bound = 0;
        for (int m = 0; m < measurements.size(); m++) {
            if (measurements.get(m).probe()) {
                bound = Math.max(bound, measurements.get(m).bytes() / seconds[m] / 1e9);
            }
        }
        return bound;
    }

    /**
     * One timed body: the weight bytes it streams per run, the tokens it yields per run (0 for a read probe), runs per
     * round (the best kept), whether its read rate counts towards the bandwidth bound, and what to do, untimed, first.
     */
    private record Measurement(String name, long bytes, int tokens, int repeats, boolean probe, Runnable prepare,
                               Runnable body) {
        double bestSeconds() {
            prepare.run();
            double best = Double.MAX_VALUE;
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                body.run();
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return best;
        }
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

    /** Reads libtorch's float32 weights once: a sum over each, on libtorch's threads. */
    private static void libtorchSum(List<NDArray> transposed) {
        for (NDArray wT : transposed) {
            try (NDArray sum = wT.sum()) {
                sum.getFloat();
            }
        }
    }

    /** The matrices' bytes written to a temporary file and mapped back read-only, one mapping each. */
    private static List<MappedByteBuffer> mappedCopy(List<HalfMatrix> weights) throws IOException {
        Path file = Files.createTempFile("kernelbench", ".bf16");
        file.toFile().deleteOnExit();
        List<MappedByteBuffer> mapped = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = 0;
            for (HalfMatrix w : weights) {
                ByteBuffer bytes = w.data().duplicate();
                while (bytes.hasRemaining()) {
                    at += channel.write(bytes, at);
                }
            }
            at = 0;
            for (HalfMatrix w : weights) {
                mapped.add(channel.map(FileChannel.MapMode.READ_ONLY, at, w.byteSize()));
                at += w.byteSize();
            }
        }
        return mapped;
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
