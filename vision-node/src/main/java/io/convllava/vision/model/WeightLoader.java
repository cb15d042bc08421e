package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.checkpoint.TensorSource;

/**
 * Copies checkpoint tensors into the weights' manager in the compute precision and on the compute device,
 * checking each shape so a mismatch names the key and the file.
 */
final class WeightLoader {
    private final TensorSource source;
    private final NDManager manager;
    private final ComputeTarget target;

    WeightLoader(TensorSource source, NDManager manager, ComputeTarget target) {
        this.source = source;
        this.manager = manager;
        this.target = target;
    }

    NDArray load(String key, long... shape) {
        NDArray float32 = manager.create(source.readFloat(key, shape), new Shape(shape));
        return target.cast(float32);
    }
}
