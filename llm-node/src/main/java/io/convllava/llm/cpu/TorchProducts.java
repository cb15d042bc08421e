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
 * Weight products of long prompt chunks on libtorch, whose float32 matrix product runs near the machine's peak: the
 * 16-bit matrix is widened into one reused float32 buffer (on every core), which libtorch reads in place, and x W^T is
 * computed as stored ([out, in]), with no transposed copy. Widening costs a pass over the weights per call, so this
 * pays only for many rows at once. libtorch is loaded on first use.
 */
final class TorchProducts implements AutoCloseable {
    private static final int WIDEN_TASKS = Math.max(1, Runtime.getRuntime().availableProcessors());

    private NDManager manager;
    private ByteBuffer scratch; // direct, native order float32; grows to the largest matrix; libtorch reads it in place

    /** y[r, o] = sum_c x[r, c] * w[o, c] for r in [0, rows): x [rows, cols], y [rows, out]. */
    void multiply(HalfMatrix w, float[] x, int rows, float[] y) {
        int out = w.rows();
        int cols = w.cols();
        ByteBuffer weights = widen(w);
        if (manager == null) {
            manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        }
        try (NDManager call = manager.newSubManager()) {
            NDArray input = call.create(FloatBuffer.wrap(x, 0, rows * cols), new Shape(rows, cols));
            NDArray matrix = call.create(weights, new Shape(out, cols), DataType.FLOAT32);
            NDArray product = Linear.linear(input, matrix).singletonOrThrow(); // [rows, out]
            product.toByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer().get(y, 0, rows * out);
        }
    }

    private ByteBuffer widen(HalfMatrix w) {
        int elements = Math.multiplyExact(w.rows(), w.cols());
        int bytes = Math.multiplyExact(elements, Float.BYTES);
        if (scratch == null || scratch.capacity() < bytes) {
            scratch = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        }
        FloatBuffer floats = scratch.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        int perTask = (w.rows() + WIDEN_TASKS - 1) / WIDEN_TASKS;
        IntStream.range(0, WIDEN_TASKS).parallel().forEach(task -> {
            int first = task * perTask;
            int count = Math.min(perTask, w.rows() - first);
            if (count > 0) {
                HalfToFloat.rows(w, first, count, floats.duplicate().position(first * w.cols()));
            }
        });
        return scratch.duplicate().position(0).limit(bytes).slice().order(ByteOrder.nativeOrder());
    }

    @Override
    public void close() {
        if (manager != null) {
            manager.close();
        }
    }
}
