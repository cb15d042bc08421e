package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;

/**
 * One ConvNeXt block ({@code layers.j}): depthwise 7x7 conv, LayerNorm over C, Linear C->4C, exact GELU,
 * Linear 4C->C, per-channel layer scale, residual add.
 */
final class ConvNextLayer {
    private static final int KERNEL = 7;
    private static final int MLP_RATIO = 4;
    private static final Shape UNIT = new Shape(1, 1);
    private static final Shape SAME_PADDING = new Shape(KERNEL / 2, KERNEL / 2);

    private final int channels;
    private final NDArray dwconvWeight;   // [C, 1, 7, 7]
    private final NDArray dwconvBias;     // [C]
    private final NDArray normWeight;     // [C]
    private final NDArray normBias;       // [C]
    private final NDArray pwconv1Weight;  // [4C, C]
    private final NDArray pwconv1Bias;    // [4C]
    private final NDArray pwconv2Weight;  // [C, 4C]
    private final NDArray pwconv2Bias;    // [C]
    private final NDArray layerScale;     // [C]

    private ConvNextLayer(int channels, NDArray dwconvWeight, NDArray dwconvBias, NDArray normWeight,
                          NDArray normBias, NDArray pwconv1Weight, NDArray pwconv1Bias, NDArray pwconv2Weight,
                          NDArray pwconv2Bias, NDArray layerScale) {
        this.channels = channels;
        this.dwconvWeight = dwconvWeight;
        this.dwconvBias = dwconvBias;
        this.normWeight = normWeight;
        this.normBias = normBias;
        this.pwconv1Weight = pwconv1Weight;
        this.pwconv1Bias = pwconv1Bias;
        this.pwconv2Weight = pwconv2Weight;
        this.pwconv2Bias = pwconv2Bias;
        this.layerScale = layerScale;
    }

    static ConvNextLayer load(WeightLoader weights, String prefix, int channels) {
        int hidden = MLP_RATIO * channels;
        return new ConvNextLayer(channels,
                weights.load(prefix + ".dwconv.weight", channels, 1, KERNEL, KERNEL),
                weights.load(prefix + ".dwconv.bias", channels),
                weights.load(prefix + ".layernorm.weight", channels),
                weights.load(prefix + ".layernorm.bias", channels),
                weights.load(prefix + ".pwconv1.weight", hidden, channels),
                weights.load(prefix + ".pwconv1.bias", hidden),
                weights.load(prefix + ".pwconv2.weight", channels, hidden),
                weights.load(prefix + ".pwconv2.bias", channels),
                weights.load(prefix + ".layer_scale_parameter", channels));
    }

    /** [B, C, H, W] -> [B, C, H, W]. */
    NDArray forward(NDArray x) {
        try (NDScope scope = new NDScope()) {
            NDArray y = Conv2d.conv2d(x, dwconvWeight, dwconvBias, UNIT, SAME_PADDING, UNIT, channels)
                    .singletonOrThrow();                                                       // [B, C, H, W]
            y = y.transpose(0, 2, 3, 1);                                                       // [B, H, W, C]
            y = LayerNorm.layerNorm(y, normWeight.getShape(), normWeight, normBias, ChannelsFirstLayerNorm.EPS)
                    .singletonOrThrow();
            y = Linear.linear(y, pwconv1Weight, pwconv1Bias).singletonOrThrow();               // [B, H, W, 4C]
            y = Activation.gelu(y);
            y = Linear.linear(y, pwconv2Weight, pwconv2Bias).singletonOrThrow();               // [B, H, W, C]
            y = y.mul(layerScale).transpose(0, 3, 1, 2);                                       // [B, C, H, W]
            NDArray out = x.add(y);
            NDScope.unregister(out);
            return out;
        }
    }
}
