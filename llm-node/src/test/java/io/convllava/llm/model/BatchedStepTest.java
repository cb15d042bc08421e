package io.convllava.llm.model;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A batched step gives every session bit for bit what it gets alone: decodes of sessions at different lengths, a
 * short prompt and a prompt chunk long enough for the libtorch products, together in one step, on the first shard
 * (hidden states out) and the last (logits out), with the 16-bit CPU engine.
 */
class BatchedStepTest {

    @Test
    void aMixedStepEqualsEverySessionAlone() {
        DecoderFixture fixture = DecoderFixture.tiny();
        try (TensorSource weights = fixture.files().openLlmWeights();
             LlamaShard alone = LlamaShard.load(fixture.files().llmConfig(), weights, 0, 2, "cpu");
             LlamaShard batched = LlamaShard.load(fixture.files().llmConfig(), weights, 0, 2, "cpu");
             LlamaShard aloneLast = LlamaShard.load(fixture.files().llmConfig(), weights, 2, 4, "cpu");
             LlamaShard batchedLast = LlamaShard.load(fixture.files().llmConfig(), weights, 2, 4, "cpu")) {
            assertEquals("cpu", alone.engineName());
            SplittableRandom random = new SplittableRandom(3);
            // history: two sessions with cached prompts of different lengths
            for (String s : List.of("a", "b")) {
                ShardInput prompt = tokens(random, s.equals("a") ? 5 : 70);
                feed(alone, aloneLast, s, prompt);
                feed(batched, batchedLast, s, prompt);
            }
            List<LlamaShard.StepPart> step = List.of(
                    new LlamaShard.StepPart("a", tokens(random, 1)),        // decode
                    new LlamaShard.StepPart("c", tokens(random, 200)),      // a long prompt chunk: the packed product
                    new LlamaShard.StepPart("b", tokens(random, 1)),        // decode
                    new LlamaShard.StepPart("d", tokens(random, 17)));      // a short prompt
            List<ShardOutput> together = batched.forwardBatch(step);
            List<LlamaShard.StepPart> lastStep = new ArrayList<>();
            List<float[]> expectedLogits = new ArrayList<>();
            for (int i = 0; i < step.size(); i++) {
                LlamaShard.StepPart part = step.get(i);
                ShardOutput single = alone.forward(part.sessionId(), part.input());
                assertArrayEquals(single.hidden().data(), together.get(i).hidden().data(), part.sessionId());
                ShardOutput logits = aloneLast.forward(part.sessionId(), new ShardInput.Hidden(single.hidden()));
                lastStep.add(new LlamaShard.StepPart(part.sessionId(), new ShardInput.Hidden(together.get(i).hidden())));
                assertEquals(alone.sessionLength(part.sessionId()), batched.sessionLength(part.sessionId()));
                expectedLogits.add(logits.logits().copy());
            }
            List<ShardOutput> lastTogether = batchedLast.forwardBatch(lastStep);
            for (int i = 0; i < lastStep.size(); i++) {
                assertArrayEquals(expectedLogits.get(i), lastTogether.get(i).logits().copy(),
                        lastStep.get(i).sessionId());
            }
        }
    }

    @Test
    void shortPromptsThatAddUpToALongProductStillEqualEachAlone() {
        // ten 17-row prompts: 170 rows of short parts, which must not become one libtorch-sized product
        DecoderFixture fixture = DecoderFixture.tiny();
        try (TensorSource weights = fixture.files().openLlmWeights();
             LlamaShard alone = LlamaShard.load(fixture.files().llmConfig(), weights, 0, 2, "cpu");
             LlamaShard batched = LlamaShard.load(fixture.files().llmConfig(), weights, 0, 2, "cpu")) {
            SplittableRandom random = new SplittableRandom(5);
            List<LlamaShard.StepPart> step = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                step.add(new LlamaShard.StepPart("p" + i, tokens(random, 17)));
            }
            List<ShardOutput> together = batched.forwardBatch(step);
            for (int i = 0; i < step.size(); i++) {
                LlamaShard.StepPart part = step.get(i);
                assertArrayEquals(alone.forward(part.sessionId(), part.input()).hidden().data(),
                        together.get(i).hidden().data(), part.sessionId());
            }
        }
    }

    @Test
    void aSessionOnBlocksThatEndedSessionsGaveBackComputesAsOnNewOnes() {
        DecoderFixture fixture = DecoderFixture.tiny();
        try (TensorSource weights = fixture.files().openLlmWeights();
             LlamaShard fresh = LlamaShard.load(fixture.files().llmConfig(), weights, 0, 2, "cpu");
             LlamaShard reused = LlamaShard.load(fixture.files().llmConfig(), weights, 0, 2, "cpu")) {
            SplittableRandom random = new SplittableRandom(5);
            ShardInput prompt = tokens(random, 70);
            ShardInput next = tokens(random, 1);
            float[] expected = fresh.forward("s", prompt).hidden().data();
            float[] expectedNext = fresh.forward("s", next).hidden().data();

            // an ended session leaves its blocks, filled with its own keys and values, for the next one
            reused.forward("earlier", tokens(random, 150));
            long held = reused.cacheBytes();
            assertEquals(0, reused.freeKvBytes());
            reused.release("earlier");
            assertEquals(held, reused.freeKvBytes(), "its blocks are kept for the next sessions");
            assertArrayEquals(expected, reused.forward("s", prompt).hidden().data());
            assertArrayEquals(expectedNext, reused.forward("s", next).hidden().data());
            assertEquals(held, reused.cacheBytes() + reused.freeKvBytes(), "taken from the ended one's, none new");

            reused.release("s");
            assertEquals(held, reused.freeKvBytes());
            assertEquals(0, reused.cacheBytes());
        }
    }

    @Test
    void aSessionTwiceInOneStepOrAPartTooLongIsRefusedBeforeAnythingRuns() {
        DecoderFixture fixture = DecoderFixture.tiny();
        try (TensorSource weights = fixture.files().openLlmWeights();
             LlamaShard shard = LlamaShard.load(fixture.files().llmConfig(), weights, 0, 2, "cpu")) {
            SplittableRandom random = new SplittableRandom(4);
            assertThrows(IllegalArgumentException.class, () -> shard.forwardBatch(List.of(
                    new LlamaShard.StepPart("x", tokens(random, 1)), new LlamaShard.StepPart("x", tokens(random, 1)))));
            assertThrows(IllegalArgumentException.class, () -> shard.forwardBatch(List.of(
                    new LlamaShard.StepPart("y", tokens(random, 3)),
                    new LlamaShard.StepPart("z", new ShardInput.Hidden(HostTensor.of(new float[64], 1, 64))))));
            assertEquals(0, shard.activeSessions(), "nothing ran");
        }
    }

    private static void feed(LlamaShard first, LlamaShard last, String session, ShardInput prompt) {
        last.forward(session, new ShardInput.Hidden(first.forward(session, prompt).hidden()));
    }

    private static ShardInput tokens(SplittableRandom random, int n) {
        return new ShardInput.Segments(List.of(new PromptSegment.Tokens(random.ints(n, 3, 32000).toArray())));
    }
}
