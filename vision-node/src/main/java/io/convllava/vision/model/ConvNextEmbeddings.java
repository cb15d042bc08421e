package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;

/** The stem ({@code embeddings}): non-overlapping patchify conv (kernel = stride = patch) then channels-first LN. */
final class ConvNextEmbeddings {
    private final NDArray patchWeight; // [C0, 3, p, p]
    private final NDArray patchBias;   // [C0]
    private final ChannelsFirstLayerNorm layerNorm;
    private final Shape stride;

    private ConvNextEmbeddings(NDArray patchWeight, NDArray patchBias, ChannelsFirstLayerNorm layerNorm, int patch) {
        this.patchWeight = patchWeight;
        this.patchBias = patchBias;
        this.layerNorm = layerNorm;
        this.stride = new Shape(patch, patch);
    }

    static ConvNextEmbeddings load(WeightLoader weights, int inChannels, int patch, int width) {
        return new ConvNextEmbeddings(
                weights.load("embeddings.patch_embeddings.weight", width, inChannels, patch, patch),
                weights.load("embeddings.patch_embeddings.bias", width),
                ChannelsFirstLayerNorm.load(weights, "embeddings.layernorm", width),
                patch);
    }

    /** [B, 3, H, W] -> [B, C0, H/p, W/p]; closes the pixels as soon as they are patchified. */
    NDArray forward(NDArray pixels) {
        try (NDArray patches = Conv2d.conv2d(pixels, patchWeight, patchBias, stride).singletonOrThrow()) {
            pixels.close();
            return layerNorm.forward(patches);
        }
    }
}
