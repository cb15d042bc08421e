package io.convllava.llm.node;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.common.testing.Fixtures;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.ShardInput;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The warm-up's throwaway sessions leave nothing behind: no session, no KV memory, no change to an answer. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShardWarmUpTest {
    private LlmConfig config;
    private LlamaShard first;
    private LlamaShard last;

    @BeforeAll
    void load() {
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        config = files.llmConfig();
        try (TensorSource weights = files.openLlmWeights()) {
            first = LlamaShard.load(config, weights, 0, 2, "cpu");
            last = LlamaShard.load(config, weights, 2, config.numHiddenLayers(), "cpu");
        }
    }

    @AfterAll
    void close() {
        first.close();
        last.close();
    }

    @Test
    void throwawaySessionsLeaveTheShardsAsTheyWere() {
        float[] hiddenBefore = probe(first, tokens());
        float[] logitsBefore = probe(last, hidden());
        int steps = 20;
        for (LlamaShard shard : List.of(first, last)) {
            assertEquals(steps, ShardWarmUp.run(shard, config.hiddenSize(), config.vocabSize(), steps,
                    Duration.ofMinutes(5)));
            assertEquals(0, shard.activeSessions());
            assertEquals(0, shard.cacheBytes());
        }
        assertArrayEquals(hiddenBefore, probe(first, tokens()));
        assertArrayEquals(logitsBefore, probe(last, hidden()));
    }

    @Test
    void theBudgetEndsAWarmUpAfterItsFirstStep() {
        assertEquals(1, ShardWarmUp.run(first, config.hiddenSize(), config.vocabSize(), Integer.MAX_VALUE,
                Duration.ZERO));
        assertEquals(0, first.activeSessions());
    }

    private static float[] probe(LlamaShard shard, ShardInput input) {
        try {
            var out = shard.forward("probe", input);
            return shard.isLast() ? out.logits().copy() : out.hidden().data();
        } finally {
            shard.release("probe");
        }
    }

    private static ShardInput tokens() {
        return new ShardInput.Segments(List.of(new PromptSegment.Tokens(new int[] {1, 5, 9, 14, 2})));
    }

    private ShardInput hidden() {
        float[] values = new float[3 * config.hiddenSize()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(i * 0.37);
        }
        return new ShardInput.Hidden(HostTensor.of(values, 3, config.hiddenSize()));
    }
}
