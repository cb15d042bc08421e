package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code encoder.stages.S}: an optional down-sampling (absent in stage 0, which keeps the stem's width and
 * resolution, so it has no keys) followed by {@code depth} ConvNeXt blocks.
 */
final class ConvNextStage {
    private final Optional<ConvNextDownsampling> downsampling;
    private final List<ConvNextLayer> layers;

    private ConvNextStage(Optional<ConvNextDownsampling> downsampling, List<ConvNextLayer> layers) {
        this.downsampling = downsampling;
        this.layers = layers;
    }

    static ConvNextStage load(WeightLoader weights, int stage, int inChannels, int outChannels, int depth) {
        String prefix = "encoder.stages." + stage;
        Optional<ConvNextDownsampling> downsampling = stage == 0
                ? Optional.empty()
                : Optional.of(ConvNextDownsampling.load(weights, prefix + ".downsampling_layer", inChannels,
                        outChannels));
        List<ConvNextLayer> layers = new ArrayList<>(depth);
        for (int j = 0; j < depth; j++) {
            layers.add(ConvNextLayer.load(weights, prefix + ".layers." + j, outChannels));
        }
        return new ConvNextStage(downsampling, List.copyOf(layers));
    }

    /**
     * [B, C_in, H, W] -> [B, C_out, H', W'] (H' = H/2 after a down-sampling). Takes x over: it is closed, or (without
     * a down-sampling) updated in place by the blocks and returned.
     */
    NDArray forward(NDArray x) {
        NDArray h = downsampling.map(d -> d.forward(x)).orElse(x);
        for (ConvNextLayer layer : layers) {
            h = layer.forward(h);
        }
        return h;
    }
}
