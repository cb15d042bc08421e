package io.convllava.llm.bench;

import io.convllava.common.checkpoint.CheckpointException;
import io.convllava.common.checkpoint.DType;
import io.convllava.common.checkpoint.TensorInfo;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A LLaMA checkpoint made up on the fly: every key and shape of {@code LlamaForCausalLM}, with uniform random values
 * of scale 1/sqrt(fan_in) (norm weights 1), generated when read. No files involved.
 */
public final class RandomLlamaWeights implements TensorSource {
    private static final Path NO_FILE = Path.of("<random>");

    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final long seed;

    public RandomLlamaWeights(LlmConfig cfg, long seed) {
        this.seed = seed;
        long h = cfg.hiddenSize();
        long q = (long) cfg.numAttentionHeads() * cfg.headDim();
        long kv = (long) cfg.numKeyValueHeads() * cfg.headDim();
        long f = cfg.intermediateSize();
        shapes.put("model.embed_tokens.weight", new long[] {cfg.vocabSize(), h});
        for (int i = 0; i < cfg.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[] {h});
            shapes.put(p + "self_attn.q_proj.weight", new long[] {q, h});
            shapes.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            shapes.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            shapes.put(p + "self_attn.o_proj.weight", new long[] {h, q});
            shapes.put(p + "post_attention_layernorm.weight", new long[] {h});
            shapes.put(p + "mlp.gate_proj.weight", new long[] {f, h});
            shapes.put(p + "mlp.up_proj.weight", new long[] {f, h});
            shapes.put(p + "mlp.down_proj.weight", new long[] {h, f});
        }
        shapes.put("model.norm.weight", new long[] {h});
        shapes.put("lm_head.weight", new long[] {cfg.vocabSize(), h});
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(shapes.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        long[] shape = shapes.get(name);
        if (shape == null) {
            throw new CheckpointException("no tensor '" + name + "' in the random LLaMA checkpoint");
        }
        return new TensorInfo(name, DType.F32, shape.clone(), NO_FILE);
    }

    @Override
    public FloatBuffer readFloat(String name) {
        long[] shape = info(name).shape();
        long numel = info(name).numel();
        FloatBuffer out = ByteBuffer.allocateDirect(Math.toIntExact(numel * Float.BYTES))
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        if (shape.length == 1) {
            while (out.hasRemaining()) {
                out.put(1f);
            }
        } else {
            float scale = (float) (1.0 / Math.sqrt(shape[1]));
            long state = (seed ^ name.hashCode() * 0x9E3779B97F4A7C15L) | 1; // never 0
            for (long i = 0; i < numel; i++) {
                state ^= state << 13; // xorshift64: cheap enough to make a billion values in seconds
                state ^= state >>> 7;
                state ^= state << 17;
                out.put(((state >>> 40) * 0x1p-24f * 2 - 1) * scale);
            }
        }
        return out.flip();
    }

    @Override
    public void close() {
    }
}
