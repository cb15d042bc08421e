package io.convllava.llm.cpu;

import io.convllava.common.config.LlmConfig;
import io.convllava.llm.kernel.HalfMatrix;

/**
 * One pre-norm LLaMA block's weights for the CPU decoder: {@code h = x + o(attn(rope(q, k), v)); out = h +
 * down(silu(gate(h')) * up(h'))} with {@code h' = norm2(h)}; every matrix as stored ([out, in], 16-bit), with q, k, v
 * stacked into one [(heads + 2 kvHeads) * d, H] matrix and gate, up into one [2F, H].
 */
record CpuLayer(float[] inputNorm, HalfMatrix qkv, HalfMatrix o, float[] postNorm, HalfMatrix gateUp,
                HalfMatrix down) {

    /** Reads exactly the tensors of {@code model.layers.<index>.}. */
    static CpuLayer load(HalfWeights w, LlmConfig cfg, int index) {
        String p = "model.layers." + index + ".";
        int hidden = cfg.hiddenSize();
        int qSize = cfg.numAttentionHeads() * cfg.headDim();
        int kvSize = cfg.numKeyValueHeads() * cfg.headDim();
        int ffn = cfg.intermediateSize();
        return new CpuLayer(
                w.vector(p + "input_layernorm.weight", hidden),
                w.stacked(new String[] {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                        p + "self_attn.v_proj.weight"}, new int[] {qSize, kvSize, kvSize}, hidden),
                w.matrix(p + "self_attn.o_proj.weight", hidden, qSize),
                w.vector(p + "post_attention_layernorm.weight", hidden),
                w.stacked(new String[] {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"},
                        new int[] {ffn, ffn}, hidden),
                w.matrix(p + "mlp.down_proj.weight", hidden, ffn));
    }

    /** The names of the 16-bit matrices of layer {@code index}, for deciding which engine a checkpoint can use. */
    static String[] matrixNames(int index) {
        String p = "model.layers." + index + ".";
        return new String[] {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                p + "self_attn.v_proj.weight", p + "self_attn.o_proj.weight", p + "mlp.gate_proj.weight",
                p + "mlp.up_proj.weight", p + "mlp.down_proj.weight"};
    }
}
