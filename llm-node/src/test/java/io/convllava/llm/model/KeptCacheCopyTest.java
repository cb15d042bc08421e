package io.convllava.llm.model;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.tensor.PromptSegment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sessions started from a kept cache ({@link LlamaShard#startFrom}) each get a copy: they continue with the bits a
 * session that ran the same positions itself gives, whatever the other copies write, and the kept cache stays.
 */
class KeptCacheCopyTest {

    @ParameterizedTest(name = "{0} engine")
    @ValueSource(strings = {"cpu", "djl"})
    void copiesOfAKeptCacheContinueIndependently(String engine) {
        DecoderFixture fixture = DecoderFixture.tiny();
        int[] ids = new SplittableRandom(11).ints(150, 3, 32000).toArray(); // three KV blocks of 64
        List<PromptSegment> prompt = List.of(new PromptSegment.Tokens(ids));
        ShardPipeline pipeline = load(fixture, engine);
        try {
            pipeline.forward("reference-5", prompt);
            float[] afterFive = pipeline.forwardToken("reference-5", 5);
            pipeline.forward("reference-9", prompt);
            float[] afterNine = pipeline.forwardToken("reference-9", 9);

            pipeline.forward("first", prompt);
            LlamaShard shard = pipeline.shards().get(0);
            shard.keep("first", "prefix");
            assertEquals(ids.length, shard.keptLength("prefix"));
            assertTrue(shard.startFrom("prefix", "a", ids.length));
            assertTrue(shard.startFrom("prefix", "short", 70)); // copies of blocks 0 and 1
            assertFalse(shard.startFrom("prefix", "a", ids.length), "a session id already in use");
            assertFalse(shard.startFrom("prefix", "long", ids.length + 1), "more positions than kept");
            assertFalse(shard.startFrom("missing", "b", 1));

            assertArrayEquals(afterFive, pipeline.forwardToken("a", 5));
            // other positions 70..150 written into the short copy's blocks must not reach the kept cache
            pipeline.forward("short", List.of(new PromptSegment.Tokens(new SplittableRandom(12)
                    .ints(80, 3, 32000).toArray())));
            assertEquals(ids.length, shard.keptLength("prefix"), "the kept cache stays");
            assertTrue(shard.startFrom("prefix", "b", ids.length));
            assertArrayEquals(afterNine, pipeline.forwardToken("b", 9));
            assertEquals(ids.length + 1, shard.sessionLength("a"));
            assertEquals(150, shard.sessionLength("short"));
        } finally {
            pipeline.close();
        }
    }

    private static ShardPipeline load(DecoderFixture fixture, String engine) {
        System.setProperty(LlamaShard.ENGINE_PROPERTY, engine);
        try (TensorSource weights = fixture.files().openLlmWeights()) {
            return ShardPipeline.whole(fixture.files().llmConfig(), weights);
        } finally {
            System.clearProperty(LlamaShard.ENGINE_PROPERTY);
        }
    }
}
