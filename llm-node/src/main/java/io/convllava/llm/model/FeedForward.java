package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import io.convllava.common.config.LlmConfig;

/** SwiGLU MLP {@code down(silu(gate(x)) * up(x))}, with gate and up fused into one product. */
final class FeedForward {
    private final NDArray gateUp; // [H, 2F]
    private final NDArray down;   // [F, H]
    private final int intermediate;

    private FeedForward(NDArray gateUp, NDArray down, int intermediate) {
        this.gateUp = gateUp;
        this.down = down;
        this.intermediate = intermediate;
    }

    static FeedForward load(WeightLoader loader, LlmConfig cfg, String prefix) {
        int hidden = cfg.hiddenSize();
        int ffn = cfg.intermediateSize();
        NDArray gateUp = loader.fusedTransposed(hidden,
                new String[] {prefix + "gate_proj.weight", prefix + "up_proj.weight"}, new long[] {ffn, ffn});
        NDArray down = loader.fusedTransposed(ffn, new String[] {prefix + "down_proj.weight"}, new long[] {hidden});
        return new FeedForward(gateUp, down, ffn);
    }

    /** x: normalised [T, H] -> [T, H]. */
    NDArray forward(NDArray x) {
        NDList gateAndUp = x.matMul(gateUp).split(new long[] {intermediate}, 1); // [T, F] each
        NDArray gate = gateAndUp.get(0);
        NDArray activated = gate.mul(Activation.sigmoid(gate)).muli(gateAndUp.get(1)); // silu(gate) * up
        return activated.matMul(down);
    }
}
