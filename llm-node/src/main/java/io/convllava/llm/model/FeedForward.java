package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import io.convllava.common.config.LlmConfig;

/** SwiGLU MLP {@code down(silu(gate(x)) * up(x))}, with gate and up stored as one weight [gate | up]. */
final class FeedForward {
    private final SplitWeight gateUp; // [H, 2F], split into gate | up
    private final SplitWeight down;   // [F, H]

    private FeedForward(SplitWeight gateUp, SplitWeight down) {
        this.gateUp = gateUp;
        this.down = down;
    }

    static FeedForward load(WeightLoader loader, LlmConfig cfg, String prefix) {
        int hidden = cfg.hiddenSize();
        int ffn = cfg.intermediateSize();
        NDArray gateUp = loader.fusedTransposed(hidden,
                new String[] {prefix + "gate_proj.weight", prefix + "up_proj.weight"}, new long[] {ffn, ffn});
        NDArray down = loader.fusedTransposed(ffn, new String[] {prefix + "down_proj.weight"}, new long[] {hidden});
        return new FeedForward(SplitWeight.of(gateUp, ffn), SplitWeight.halves(down));
    }

    /** x: normalised [T, H] -> [T, H]. */
    NDArray forward(NDArray x, ProductSplitter products) {
        NDList gateAndUp = products.halves(x, gateUp); // [T, F] each
        NDArray gate = gateAndUp.get(0);
        NDArray activated = gate.mul(Activation.sigmoid(gate)).muli(gateAndUp.get(1)); // silu(gate) * up
        return products.product(activated, down);
    }
}
