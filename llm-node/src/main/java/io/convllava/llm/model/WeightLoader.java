package io.convllava.llm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.checkpoint.TensorSource;

/**
 * Reads checkpoint tensors (widened to float32 by the {@link TensorSource}), reshapes them into the layout the decoder
 * computes with, converts them to the target precision and device, and hands them to the weights' manager. Every
 * intermediate lives in a short-lived CPU manager, so only the final weights stay resident.
 */
final class WeightLoader {
    private final TensorSource source;
    private final ComputeTarget target;
    private final NDManager weights;

    WeightLoader(TensorSource source, ComputeTarget target, NDManager weights) {
        this.source = source;
        this.target = target;
        this.weights = weights;
    }

    ComputeTarget target() {
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
     * {@code Linear.linear} with the stored layout for batch-1 decode on CPU).
     */
    NDArray fusedTransposed(long in, String[] names, long[] outs) {
        try (NDManager tmp = cpuManager()) {
            NDList parts = new NDList(names.length);
            long total = 0;
            for (int i = 0; i < names.length; i++) {
                parts.add(tmp.create(source.readFloat(names[i], outs[i], in), new Shape(outs[i], in)));
                total += outs[i];
            }
            NDArray stacked = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0); // [sum(out_i), in]
            // reshape of the transposed view cannot be a view, so it makes the contiguous [in, total] copy
            NDArray transposed = stacked.transpose().reshape(-1).reshape(in, total);
            return place(transposed);
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
