package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;

/** A stage's {@code downsampling_layer} for stages 1..: channels-first LN, then Conv2d(k=2, s=2) widening C. */
final class ConvNextDownsampling {
    private static final Shape KERNEL_AND_STRIDE = new Shape(2, 2);

    private final ChannelsFirstLayerNorm layerNorm;
    private final NDArray convWeight; // [C_out, C_in, 2, 2]
    private final NDArray convBias;   // [C_out]

    private ConvNextDownsampling(ChannelsFirstLayerNorm layerNorm, NDArray convWeight, NDArray convBias) {
        this.layerNorm = layerNorm;
        this.convWeight = convWeight;
        this.convBias = convBias;
    }

    static ConvNextDownsampling load(WeightLoader weights, String prefix, int inChannels, int outChannels) {
        return new ConvNextDownsampling(
                ChannelsFirstLayerNorm.load(weights, prefix + ".0", inChannels),
                weights.load(prefix + ".1.weight", outChannels, inChannels, 2, 2),
                weights.load(prefix + ".1.bias", outChannels));
    }

    /** [B, C_in, H, W] -> [B, C_out, H/2, W/2]; closes x as soon as it is normalised. */
    NDArray forward(NDArray x) {
        try (NDArray normed = layerNorm.forward(x)) {
            x.close();
            return Conv2d.conv2d(normed, convWeight, convBias, KERNEL_AND_STRIDE).singletonOrThrow();
        }
    }
}
