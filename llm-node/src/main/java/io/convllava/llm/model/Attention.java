package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import io.convllava.common.config.LlmConfig;

/**
 * LLaMA self-attention with grouped-query heads: fused q/k/v projection (no bias), RoPE, the session's KV cache,
 * causal softmax in float32, output projection. Each KV head serves {@code group} consecutive query heads (HF
 * {@code repeat_kv}); the query heads of a group are folded into the row axis, so the cached K/V are used as they are,
 * never repeated or copied.
 */
final class Attention {
    private final NDArray qkv; // [H, (heads + 2 kvHeads) * headDim]
    private final NDArray out; // [heads * headDim, H]
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;

    private Attention(NDArray qkv, NDArray out, int heads, int kvHeads, int headDim) {
        this.qkv = qkv;
        this.out = out;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    static Attention load(WeightLoader loader, LlmConfig cfg, String prefix) {
        int hidden = cfg.hiddenSize();
        long qSize = (long) cfg.numAttentionHeads() * cfg.headDim();
        long kvSize = (long) cfg.numKeyValueHeads() * cfg.headDim();
        NDArray qkv = loader.fusedTransposed(hidden,
                new String[] {prefix + "q_proj.weight", prefix + "k_proj.weight", prefix + "v_proj.weight"},
                new long[] {qSize, kvSize, kvSize});
        NDArray out = loader.fusedTransposed(qSize, new String[] {prefix + "o_proj.weight"}, new long[] {hidden});
        return new Attention(qkv, out, cfg.numAttentionHeads(), cfg.numKeyValueHeads(), cfg.headDim());
    }

    /** x: normalised [T, H]; writes this layer's K/V for the new positions; returns [T, H]. */
    NDArray forward(NDArray x, int layer, RotaryEmbedding rope, ForwardStep step) {
        int t = step.length();
        NDArray projected = x.matMul(qkv).reshape(t, heads + 2 * kvHeads, headDim);  // [T, heads + 2kv, d]
        boolean smallCore = t == 1 && !x.getDevice().isGpu(); // a CPU decode step
        NDArray merged = smallCore ? SingleThreaded.run(() -> core(projected, layer, rope, step))
                : core(projected, layer, rope, step);                                  // [T, heads*d]
        return merged.matMul(out);                                                    // [T, H]
    }

    /** RoPE, cache write, softmax(q k^T / sqrt(d) + mask) v: [T, heads + 2kv, d] -> [T, heads*d]. */
    private NDArray core(NDArray projected, int layer, RotaryEmbedding rope, ForwardStep step) {
        int t = step.length();
        int context = step.contextLength();
        int group = heads / kvHeads;

        NDList qkAndV = projected.split(new long[] {heads + kvHeads}, 1);
        NDArray qk = rope.apply(qkAndV.get(0), step.angles()).transpose(1, 0, 2);   // [heads + kv, T, d]
        NDList qAndK = qk.split(new long[] {heads}, 0);
        NDArray v = qkAndV.get(1).transpose(1, 0, 2);                                 // [kv, T, d]
        step.cache().write(layer, qAndK.get(1), v);

        NDArray keys = step.cache().keys(layer, step.manager(), context);             // [kv, L, d]
        NDArray values = step.cache().values(layer, step.manager(), context);         // [kv, L, d]
        NDArray queries = qAndK.get(0).reshape(kvHeads, group * t, headDim);          // [kv, group*T, d]

        NDArray scores = queries.matMul(keys.transpose(0, 2, 1)).muli(scale)          // [kv, group*T, L]
                .toType(DataType.FLOAT32, false);
        if (step.mask() != null) {
            scores.reshape(kvHeads, group, t, context).addi(step.mask());              // mask [T, L] broadcast
        }
        NDArray probs = scores.softmax(2).toType(projected.getDataType(), false);
        NDArray context3 = probs.matMul(values);                                      // [kv, group*T, d]
        return context3.reshape(heads, t, headDim).transpose(1, 0, 2)
                .reshape(t, (long) heads * headDim);                                   // [T, heads*d]
    }
}
