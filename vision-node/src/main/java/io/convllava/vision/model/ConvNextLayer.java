package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
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
    static final int KERNEL = 7;
    static final int MLP_RATIO = 4;
    /** Bytes of one band's 4C-wide MLP intermediate (two live at once, around the GELU). */
    static final long BAND_BYTES = 32L << 20;
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

    /**
     * Adds the block's residual branch to {@code x} ([B, C, H, W]) in place and returns it; the caller must own x
     * alone. The depthwise conv needs the whole map, so it is one map-sized array; everything after it is
     * per-position, so it runs on bands of rows whose 4C-wide intermediates stay within {@link #BAND_BYTES}, each
     * freed as soon as its band is added to x. Peak: x, the conv output and one band's intermediates.
     */
    NDArray forward(NDArray x) {
        Shape shape = x.getShape();
        long height = shape.get(2);
        long rows = rowsPerBand(shape.get(0), channels, shape.get(3), x.getDataType().getNumOfBytes());
        try (NDArray conv = Conv2d.conv2d(x, dwconvWeight, dwconvBias, UNIT, SAME_PADDING, UNIT, channels)
                .singletonOrThrow()) {                                                         // [B, C, H, W]
            for (long from = 0; from < height; from += rows) {
                NDIndex band = new NDIndex(":, :, {}:{}", from, Math.min(height, from + rows));
                try (NDScope scope = new NDScope()) {
                    NDArray y = conv.get(band).transpose(0, 2, 3, 1);                          // [B, h, W, C]
                    y = LayerNorm.layerNorm(y, normWeight.getShape(), normWeight, normBias,
                            ChannelsFirstLayerNorm.EPS).singletonOrThrow();
                    y = replace(y, Linear.linear(y, pwconv1Weight, pwconv1Bias).singletonOrThrow()); // [B, h, W, 4C]
                    y = replace(y, Activation.gelu(y));
                    y = replace(y, Linear.linear(y, pwconv2Weight, pwconv2Bias).singletonOrThrow()); // [B, h, W, C]
                    x.get(band).addi(y.muli(layerScale).transpose(0, 3, 1, 2));
                }
            }
        }
        return x;
    }

    /** Rows of a [batch, channels, H, width] map per band: its 4C-wide intermediate within BAND_BYTES, at least 1. */
    static long rowsPerBand(long batch, long channels, long width, int bytesPerElement) {
        return Math.max(1, BAND_BYTES / (batch * width * MLP_RATIO * channels * bytesPerElement));
    }

    private static NDArray replace(NDArray done, NDArray next) {
        done.close();
        return next;
    }
}
