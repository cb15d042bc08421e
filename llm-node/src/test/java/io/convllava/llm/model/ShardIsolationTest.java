package io.convllava.llm.model;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A shard reads exactly its own layers' tensors (plus embeddings on the first, final norm and head on the last). */
class ShardIsolationTest {
    private static final List<String> LAYER_TENSORS = List.of("input_layernorm.weight",
            "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
            "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight");

    @Test
    void lastShardReadsOnlyItsLayersNormAndHead() {
        Set<String> expected = layerTensors(2, 4);
        expected.add("model.norm.weight");
        expected.add("lm_head.weight");
        assertEquals(expected, tensorsReadLoading(DecoderFixture.tiny(), 2, 4));
    }

    @Test
    void firstShardReadsOnlyEmbeddingsAndItsLayers() {
        Set<String> expected = layerTensors(0, 2);
        expected.add("model.embed_tokens.weight");
        assertEquals(expected, tensorsReadLoading(DecoderFixture.tiny(), 0, 2));
    }

    @Test
    void middleShardReadsOnlyItsLayers() {
        assertEquals(layerTensors(2, 5), tensorsReadLoading(DecoderFixture.holdout(), 2, 5));
    }

    @Test
    void progressIsReportedPerLayer() {
        DecoderFixture fixture = DecoderFixture.tiny();
        List<String> events = new ArrayList<>();
        try (TensorSource weights = fixture.files().openLlmWeights();
             LlamaShard ignored = LlamaShard.load(fixture.files().llmConfig(), weights, 1, 3, "cpu",
                     (start, end, loaded, total) -> events.add(start + "-" + end + ":" + loaded + "/" + total))) {
            assertEquals(List.of("1-3:1/2", "1-3:2/2"), events);
        }
    }

    private static Set<String> tensorsReadLoading(DecoderFixture fixture, int start, int end) {
        LlmConfig cfg = fixture.files().llmConfig();
        try (RecordingTensorSource weights = new RecordingTensorSource(fixture.files().openLlmWeights());
             LlamaShard ignored = LlamaShard.load(cfg, weights, start, end, "cpu", LoadProgress.silent())) {
            return new TreeSet<>(weights.read());
        }
    }

    private static Set<String> layerTensors(int start, int end) {
        Set<String> names = new TreeSet<>();
        for (int layer = start; layer < end; layer++) {
            for (String tensor : LAYER_TENSORS) {
                names.add("model.layers." + layer + "." + tensor);
            }
        }
        return names;
    }
}
