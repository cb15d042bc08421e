package io.convllava.common.config;

/**
 * The ConvNeXt vision tower ({@code config.json} with {@code model_type convnext}); the number of stages is
 * {@code depths.length}. Every LayerNorm the forward pass uses has eps 1e-6 (HF hard-codes it);
 * {@code layer_norm_eps} only concerns the unused final norm.
 */
public record VisionConfig(int numChannels, int patchSize, int[] depths, int[] hiddenSizes, String hiddenAct,
                           int imageSize) {

    public int numStages() {
        return depths.length;
    }

    /** Channels of the last stage: the width of each visual token before the projector. */
    public int outputChannels() {
        return hiddenSizes[hiddenSizes.length - 1];
    }

    /** Total down-sampling: the stem's patch size times 2 per later stage. */
    public int downsampleFactor() {
        return patchSize << (depths.length - 1);
    }
}
