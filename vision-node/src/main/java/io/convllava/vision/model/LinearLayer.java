package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;

/** {@code nn.Linear}: y = x W^T + b over the last axis. */
final class LinearLayer {
    private final NDArray weight; // [out, in]
    private final NDArray bias;   // [out]

    private LinearLayer(NDArray weight, NDArray bias) {
        this.weight = weight;
        this.bias = bias;
    }

    static LinearLayer load(WeightLoader weights, String prefix, int in, int out) {
        return new LinearLayer(weights.load(prefix + ".weight", out, in), weights.load(prefix + ".bias", out));
    }

    /** [..., in] -> [..., out]. */
    NDArray forward(NDArray x) {
        return Linear.linear(x, weight, bias).singletonOrThrow();
    }
}
