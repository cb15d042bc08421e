package io.convllava.vision.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.checkpoint.TensorSource;

/**
 * Reads checkpoint tensors (widened to float32 by the {@link TensorSource}), checking each shape so a mismatch names
 * the key and the file, and hands them to the weights' manager in the compute precision and on the compute device.
 * The same convention as the decoder's loader: every intermediate lives in a short-lived CPU manager and the resident
 * weight is a copy that libtorch owns (never a view of the reader's Java buffer), so only the final weights stay.
 */
final class WeightLoader {
    /**
     * Float32 bytes read between collections. The read buffers are direct Java buffers (and the checkpoint windows
     * mapped ones), freed only by a collection: without these, loading the ConvNeXt-L tower with its 5th stage
     * peaked at 10 GB resident for 2.7 GB of weights.
     */
    private static final long COLLECT_EVERY_BYTES = 256L << 20;

    private final TensorSource source;
    private final NDManager weights;
    private final Placement target;
    private long readSinceCollection;

    WeightLoader(TensorSource source, NDManager weights, Placement target) {
        this.source = source;
        this.weights = weights;
        this.target = target;
    }

    NDArray load(String key, long... shape) {
        try (NDManager tmp = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray owned = tmp.create(source.readFloat(key, shape), new Shape(shape)).duplicate();
            NDArray typed = owned.toType(target.dataType(), false);
            NDArray placed = target.device().equals(typed.getDevice()) ? typed : typed.toDevice(target.device(), false);
            placed.attach(weights);
            readSinceCollection += owned.size() * Float.BYTES;
            if (readSinceCollection >= COLLECT_EVERY_BYTES) {
                readSinceCollection = 0;
                System.gc();
            }
            return placed;
        }
    }
}
