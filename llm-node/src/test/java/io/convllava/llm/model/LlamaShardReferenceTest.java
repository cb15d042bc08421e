package io.convllava.llm.model;

import io.convllava.common.checkpoint.TensorSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoder against the reference fixtures (tiny, hubtiny, holdout with GQA), as one shard and split into several,
 * with both engines (Java on 16-bit weights, and libtorch): prefill logits within 1e-3, and greedy tokens up to each
 * case's stable prefix with and without the KV cache.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaShardReferenceTest {
    private static final int STEPS = 12;
    private static final float LOGIT_TOLERANCE = 1e-3f;

    private final Map<String, ShardPipeline> pipelines = new HashMap<>();

    Stream<Arguments> pipelines() {
        List<Arguments> args = new ArrayList<>();
        for (String engine : new String[] {"cpu", "djl"}) {
            for (DecoderFixture fixture : DecoderFixture.all()) {
                args.add(Arguments.of(fixture, new int[] {0, fixture.layers()}, engine));
                fixture.splits().forEach(split -> args.add(Arguments.of(fixture, split, engine)));
            }
        }
        return args.stream();
    }

    private ShardPipeline pipeline(DecoderFixture fixture, int[] bounds, String engine) {
        return pipelines.computeIfAbsent(fixture.name() + Arrays.toString(bounds) + engine, key -> {
            System.setProperty(LlamaShard.ENGINE_PROPERTY, engine);
            try (TensorSource weights = fixture.files().openLlmWeights()) {
                ShardPipeline pipeline = ShardPipeline.load(fixture.files().llmConfig(), weights, bounds);
                pipeline.shards().forEach(shard -> assertEquals(engine, shard.engineName()));
                return pipeline;
            } finally {
                System.clearProperty(LlamaShard.ENGINE_PROPERTY);
            }
        });
    }

    @AfterAll
    void closePipelines() {
        pipelines.values().forEach(ShardPipeline::close);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("pipelines")
    void prefillLogitsMatchReference(DecoderFixture fixture, int[] bounds, String engine) {
        ShardPipeline pipeline = pipeline(fixture, bounds, engine);
        for (ReferenceCase c : fixture.cases()) {
            String session = "prefill-" + c.index();
            float[] logits = pipeline.forward(session, c.prompt());
            pipeline.release(session);
            float diff = ShardPipeline.maxAbsDiff(c.prefillLogits(), logits);
            assertTrue(diff <= LOGIT_TOLERANCE, c + " " + pipeline + ": max |diff| " + diff);
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("pipelines")
    void greedyTokensWithKvCacheMatchReference(DecoderFixture fixture, int[] bounds, String engine) {
        ShardPipeline pipeline = pipeline(fixture, bounds, engine);
        for (ReferenceCase c : fixture.cases()) {
            String session = "cached-" + c.index();
            int[] tokens = pipeline.greedy(session, c.prompt(), STEPS);
            for (LlamaShard shard : pipeline.shards()) {
                assertTrue(shard.sessionLength(session) == c.sequenceLength() + STEPS - 1, "cached positions");
            }
            pipeline.release(session);
            assertArrayEquals(c.stableTokens(), Arrays.copyOf(tokens, c.stablePrefix()), c + " " + pipeline);
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("pipelines")
    void greedyTokensWithoutKvCacheMatchReference(DecoderFixture fixture, int[] bounds, String engine) {
        ShardPipeline pipeline = pipeline(fixture, bounds, engine);
        for (ReferenceCase c : fixture.cases()) {
            int[] tokens = pipeline.greedyWithoutCache(c.prompt(), STEPS);
            assertArrayEquals(c.stableTokens(), Arrays.copyOf(tokens, c.stablePrefix()), c + " " + pipeline);
        }
        for (LlamaShard shard : pipeline.shards()) {
            assertTrue(shard.activeSessions() == 0, "sessions released");
        }
    }
}
