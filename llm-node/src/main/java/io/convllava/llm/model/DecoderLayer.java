package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import io.convllava.common.config.LlmConfig;

/** One pre-norm LLaMA block: {@code h = x + attn(norm1(x)); out = h + mlp(norm2(h))}. */
final class DecoderLayer {
    private final RmsNorm inputNorm;
    private final Attention attention;
    private final RmsNorm postAttentionNorm;
    private final FeedForward mlp;

    private DecoderLayer(RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, FeedForward mlp) {
        this.inputNorm = inputNorm;
        this.attention = attention;
        this.postAttentionNorm = postAttentionNorm;
        this.mlp = mlp;
    }

    /** Reads exactly the tensors of {@code model.layers.<index>.}. */
    static DecoderLayer load(WeightLoader loader, LlmConfig cfg, int index) {
        String prefix = "model.layers." + index + ".";
        return new DecoderLayer(
                RmsNorm.load(loader, prefix + "input_layernorm.weight", cfg.hiddenSize(), cfg.rmsNormEps()),
                Attention.load(loader, cfg, prefix + "self_attn."),
                RmsNorm.load(loader, prefix + "post_attention_layernorm.weight", cfg.hiddenSize(), cfg.rmsNormEps()),
                FeedForward.load(loader, cfg, prefix + "mlp."));
    }

    /**
     * x: [T, H], updated in place and returned; {@code layer} is the index within the shard (into the KV cache).
     */
    NDArray forward(NDArray x, int layer, RotaryEmbedding rope, ForwardStep step) {
        x.addi(attention.forward(inputNorm.forward(x), layer, rope, step));
        return x.addi(mlp.forward(postAttentionNorm.forward(x)));
    }
}
