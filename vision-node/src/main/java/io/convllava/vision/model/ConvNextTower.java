package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.config.VisionConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The vision tower with HF {@code ConvNextModel} semantics for any number of stages, read as ConvLLaVA reads it:
 * the raw output of the last stage as tokens ({@code hidden_states[-1]}), with no final LayerNorm and no pooling.
 */
final class ConvNextTower {
    private final VisionConfig config;
    private final ConvNextEmbeddings embeddings;
    private final List<ConvNextStage> stages;

    private ConvNextTower(VisionConfig config, ConvNextEmbeddings embeddings, List<ConvNextStage> stages) {
        this.config = config;
        this.embeddings = embeddings;
        this.stages = stages;
    }

    /** Loads from unprefixed {@code ConvNextModel} keys, reporting progress once per stage. */
    static ConvNextTower load(VisionConfig config, WeightLoader weights, Consumer<String> progress) {
        int[] widths = config.hiddenSizes();
        int[] depths = config.depths();
        if (widths.length != depths.length || depths.length == 0) {
            throw new IllegalArgumentException("vision config: hidden_sizes " + Arrays.toString(widths)
                    + " and depths " + Arrays.toString(depths) + " must be non-empty and of equal length");
        }
        ConvNextEmbeddings stem = ConvNextEmbeddings.load(weights, config.numChannels(), config.patchSize(), widths[0]);
        List<ConvNextStage> stages = new ArrayList<>(depths.length);
        for (int s = 0; s < depths.length; s++) {
            progress.accept("loading vision tower: stage " + (s + 1) + "/" + depths.length);
            int in = s == 0 ? widths[0] : widths[s - 1];
            stages.add(ConvNextStage.load(weights, s, in, widths[s], depths[s]));
        }
        return new ConvNextTower(config, stem, List.copyOf(stages));
    }

    /**
     * Pixels [B, 3, H, W] -> tokens [B, (H/f)*(W/f), C_last] in row-major (h, w) order, f = downsample factor.
     * Takes the pixels over (they are closed once patchified); each stage's input is freed as the next one starts.
     */
    NDArray forward(NDArray pixels) {
        NDArray h = embeddings.forward(pixels);                // [B, C0, H/p, W/p]
        for (ConvNextStage stage : stages) {
            h = stage.forward(h);
        }
        Shape map = h.getShape();                              // [B, C, h, w]
        try (NDArray last = h;
             NDArray nhwc = last.transpose(0, 2, 3, 1)) {      // [B, h, w, C]
            return nhwc.reshape(map.get(0), map.get(2) * map.get(3), map.get(1)); // [B, h*w, C]
        }
    }

    VisionConfig config() {
        return config;
    }
}
