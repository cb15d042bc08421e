package io.convllava.llm.cpu;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.convllava.llm.kernel.HalfMatrix;
import io.convllava.llm.kernel.HalfToFloat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * Weight products of long prompt chunks on libtorch (with {@code -Dconvllava.prefill=torch}), whose float32 matrix
 * product runs near the machine's peak: the 16-bit matrix is widened into one reused float32 buffer (on every core),
 * which libtorch reads in place, and x W^T is computed as stored ([out, in]), with no transposed copy. The whole matrix
 * goes to libtorch in one product: in blocks of rows (a widened block still in cache, a small buffer), MKL re-packs the
 * input for every block and the products ran 1.1-4x slower (docs/benchmarks.md). The input and the product cross in
 * direct buffers (the input's reused, the product read in place), so a call allocates nothing in Java. Widening costs
 * a pass over the weights per call, so this pays only for many rows at once. libtorch is loaded on first use.
 */
public final class TorchProducts implements AutoCloseable {
    /**
     * System property choosing what multiplies long prompt chunks: {@code java} (default: the packed product of
     * {@link io.convllava.llm.kernel.HalfMatMul}, 0.95x libtorch's float32 engine on 512 positions, and libtorch is
     * never loaded, which keeps an llm node ~130 MB plus the widened matrix smaller) or {@code torch} (this class:
     * 0.80x since the weights are packed in panels, which it widens panel by panel; docs/benchmarks.md).
     */
    public static final String PROPERTY = "convllava.prefill";
    /** The property's default. */
    public static final String DEFAULT = "java";

    private static final int WIDEN_TASKS = Math.max(1, Runtime.getRuntime().availableProcessors());

    private NDManager manager;
    private ByteBuffer weights; // direct, native order: the widened matrix; grows to the largest one
    private ByteBuffer input;   // direct, native order: x

    TorchProducts() {
    }

    /** Whether long prompt chunks multiply on libtorch: the property's value when a decoder is loaded. */
    static boolean enabled() {
        String value = System.getProperty(PROPERTY, DEFAULT);
        if (!value.equals("torch") && !value.equals("java")) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": expected torch or java");
        }
        return value.equals("torch");
    }

    /** y[r, o] = sum_c x[r, c] * w[o, c] for r in [0, rows): x [rows, cols], y [rows, out]. */
    void multiply(HalfMatrix w, float[] x, int rows, float[] y) {
        int out = w.rows();
        int cols = w.cols();
        if (manager == null) {
            manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        }
        weights = capacity(weights, (long) out * cols);
        input = capacity(input, (long) rows * cols);
        input.clear();
        input.asFloatBuffer().put(x, 0, rows * cols);
        try (NDManager call = manager.newSubManager()) {
            NDArray in = call.create(input.slice(0, rows * cols * Float.BYTES).order(ByteOrder.nativeOrder()),
                    new Shape(rows, cols), DataType.FLOAT32);
            widen(w);
            NDArray matrix = call.create(weights.slice(0, out * cols * Float.BYTES).order(ByteOrder.nativeOrder()),
                    new Shape(out, cols), DataType.FLOAT32);
            NDArray product = Linear.linear(in, matrix).singletonOrThrow(); // [rows, out], contiguous
            product.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().get(y, 0, rows * out);
        }
    }

    private static ByteBuffer capacity(ByteBuffer buffer, long floats) {
        long bytes = floats * Float.BYTES;
        if (buffer != null && buffer.capacity() >= bytes) {
            return buffer;
        }
        return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
    }

    /** w into the weights buffer, float32 [rows, cols], a share of the rows per core. */
    private void widen(HalfMatrix w) {
        int cols = w.cols();
        int rows = w.rows();
        FloatBuffer floats = weights.duplicate().clear().order(ByteOrder.nativeOrder()).asFloatBuffer();
        int perTask = (rows + WIDEN_TASKS - 1) / WIDEN_TASKS;
        IntStream.range(0, WIDEN_TASKS).parallel().forEach(task -> {
            int first = task * perTask;
            int count = Math.min(perTask, rows - first);
            if (count > 0) {
                HalfToFloat.rows(w, first, count, floats.duplicate().position(first * cols));
            }
        });
    }

    @Override
    public void close() {
        if (manager != null) {
            manager.close();
        }
    }
}
