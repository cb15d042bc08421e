package io.convllava.llm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.checkpoint.TensorSource;

/**
 * Reads checkpoint tensors (widened to float32 by the {@link TensorSource}), reshapes them into the layout the decoder
 * computes with, converts them to the target precision and device, and hands them to the weights' manager. Every
 * intermediate lives in a short-lived CPU manager, so only the final weights stay resident.
 */
final class WeightLoader {
    private static final int TILE = 64;
    private final TensorSource source;
    private final Placement target;
    private final NDManager weights;

    WeightLoader(TensorSource source, Placement target, NDManager weights) {
        this.source = source;
        this.target = target;
        this.weights = weights;
    }

    Placement target() {
        return target;
    }

    NDManager weights() {
        return weights;
    }

    boolean contains(String name) {
        return source.contains(name);
    }

    /** A 1-D tensor such as a norm weight: [size]. */
    NDArray vector(String name, long size) {
        try (NDManager tmp = cpuManager()) {
            return place(ownedCopy(tmp.create(source.readFloat(name, size), new Shape(size))));
        }
    }

    /** A table computed at load time (not read from the checkpoint), float32 values. */
    NDArray table(float[] values, Shape shape) {
        try (NDManager tmp = cpuManager()) {
            return place(ownedCopy(tmp.create(values, shape)));
        }
    }

    /** A matrix kept as stored, [rows, cols] (the token embedding table, looked up by row). */
    NDArray matrix(String name, long rows, long cols) {
        try (NDManager tmp = cpuManager()) {
            return place(ownedCopy(tmp.create(source.readFloat(name, rows, cols), new Shape(rows, cols))));
        }
    }

    /**
     * Linear weights stored as [out_i, in], concatenated along the output axis and transposed once to a contiguous
     * [in, sum(out_i)] so that {@code x.matMul(w)} computes all of them in one product (measured faster than
     * {@code Linear.linear} with the stored layout for batch-1 decode on CPU). The transpose is done here in
     * cache-sized tiles while the tensors are read: libtorch's strided copy of a transposed view made loading 3x
     * slower.
     */
    NDArray fusedTransposed(long in, String[] names, long[] outs) {
        int cols = Math.toIntExact(in);
        int total = 0;
        for (long out : outs) {
            total += Math.toIntExact(out);
        }
        float[] fused = new float[Math.multiplyExact(cols, total)]; // [in, total]
        int column = 0;
        for (int i = 0; i < names.length; i++) {
            int rows = Math.toIntExact(outs[i]);
            float[] stored = new float[Math.multiplyExact(rows, cols)]; // [out_i, in]
            source.readFloat(names[i], outs[i], in).get(stored);
            transposeInto(stored, rows, cols, fused, total, column);
            column += rows;
        }
        try (NDManager tmp = cpuManager()) {
            return place(ownedCopy(tmp.create(fused, new Shape(in, total))));
        }
    }

    /** dst[c, column + r] = src[r, c] for src [rows, cols] and dst [cols, dstCols], in TILE x TILE blocks. */
    private static void transposeInto(float[] src, int rows, int cols, float[] dst, int dstCols, int column) {
        for (int r0 = 0; r0 < rows; r0 += TILE) {
            int r1 = Math.min(rows, r0 + TILE);
            for (int c0 = 0; c0 < cols; c0 += TILE) {
                int c1 = Math.min(cols, c0 + TILE);
                for (int r = r0; r < r1; r++) {
                    int from = r * cols;
                    int to = column + r;
                    for (int c = c0; c < c1; c++) {
                        dst[c * dstCols + to] = src[from + c];
                    }
                }
            }
        }
    }

    /** create() may wrap the reader's Java direct buffer; a copy puts the data into memory that libtorch owns. */
    private static NDArray ownedCopy(NDArray wrapped) {
        return wrapped.duplicate();
    }

    /** Converts to the target dtype and device and moves ownership to the weights' manager. */
    private NDArray place(NDArray cpuFloat32) {
        NDArray typed = cpuFloat32.toType(target.dtype(), false);
        NDArray placed = target.device().equals(typed.getDevice()) ? typed : typed.toDevice(target.device(), false);
        placed.attach(weights);
        return placed;
    }

    private static NDManager cpuManager() {
        return NDManager.newBaseManager(Device.cpu(), "PyTorch");
    }
}
