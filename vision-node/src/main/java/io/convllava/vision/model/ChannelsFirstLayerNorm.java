package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.norm.LayerNorm;

/** HF {@code ConvNextLayerNorm(data_format="channels_first")}: LayerNorm over C of an NCHW map, eps 1e-6. */
final class ChannelsFirstLayerNorm {
    static final float EPS = 1e-6f;

    private final NDArray weight; // [C]
    private final NDArray bias;   // [C]

    private ChannelsFirstLayerNorm(NDArray weight, NDArray bias) {
        this.weight = weight;
        this.bias = bias;
    }

    static ChannelsFirstLayerNorm load(WeightLoader weights, String prefix, long channels) {
        return new ChannelsFirstLayerNorm(weights.load(prefix + ".weight", channels),
                weights.load(prefix + ".bias", channels));
    }

    /** [B, C, H, W] -> [B, C, H, W], a channels-last view of a new array; x stays open. */
    NDArray forward(NDArray x) {
        try (NDArray nhwc = x.transpose(0, 2, 3, 1); // [B, H, W, C]
             NDArray normed = LayerNorm.layerNorm(nhwc, weight.getShape(), weight, bias, EPS).singletonOrThrow()) {
            return normed.transpose(0, 3, 1, 2);
        }
    }
}
