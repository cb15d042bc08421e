package io.convllava.llm.model;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.llm.cpu.TorchProducts;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompts long enough for the CPU engine's other paths: products of many rows (on libtorch, widened 16-bit weights, or
 * the Java packed product), block attention, several prompt chunks, several KV blocks. The Java engine must agree with
 * the libtorch engine (float32 on the same weights) on the tiny fixture, as one shard and split in two.
 */
class LongPromptEnginesTest {
    private static final float TOLERANCE = 1e-3f;

    @ParameterizedTest(name = "prompt products on {0}")
    @ValueSource(strings = {"torch", "java"})
    void aLongPromptGivesTheSameLogitsAndTokensOnBothEngines(String prefill) {
        DecoderFixture fixture = DecoderFixture.tiny();
        int[] ids = new SplittableRandom(7).ints(1100, 3, 32000).toArray(); // > 2 chunks of 512, many blocks of 64
        List<PromptSegment> prompt = List.of(new PromptSegment.Tokens(ids));
        for (int[] bounds : new int[][] {{0, 4}, {0, 1, 4}}) {
            System.setProperty(TorchProducts.PROPERTY, prefill);
            ShardPipeline cpu;
            try {
                cpu = load(fixture, bounds, "cpu");
            } finally {
                System.clearProperty(TorchProducts.PROPERTY);
            }
            ShardPipeline djl = load(fixture, bounds, "djl");
            try {
                float[] expected = djl.forward("s", prompt);
                float[] actual = cpu.forward("s", prompt);
                assertEquals(expected.length, actual.length);
                float worst = 0;
                for (int i = 0; i < expected.length; i++) {
                    worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
                }
                assertTrue(worst < TOLERANCE, "max |logit difference| " + worst);
                assertArrayEquals(djl.greedy("g", prompt, 8), cpu.greedy("g", prompt, 8));
                assertTrue(cpu.shards().get(0).cacheBytes() > 0);
            } finally {
                cpu.close();
                djl.close();
            }
        }
    }

    private static ShardPipeline load(DecoderFixture fixture, int[] bounds, String engine) {
        System.setProperty(LlamaShard.ENGINE_PROPERTY, engine);
        try (TensorSource weights = fixture.files().openLlmWeights()) {
            return ShardPipeline.load(fixture.files().llmConfig(), weights, bounds);
        } finally {
            System.clearProperty(LlamaShard.ENGINE_PROPERTY);
        }
    }
}
