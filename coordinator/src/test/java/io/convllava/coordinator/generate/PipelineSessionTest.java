package io.convllava.coordinator.generate;

import io.convllava.common.pipeline.DecoderPipeline;
import io.convllava.common.pipeline.PrefillOptions;
import io.convllava.common.pipeline.StepResult;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.coordinator.prefix.PrefillChunks;
import io.convllava.coordinator.prefix.PrefixIndex;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What a session replays after its pipeline fails: every position again, in the shape it was first computed, and
 * the failed step with its step number. The pipelines here only record the calls they get (the numerics of each
 * shape are the nodes' business: {@code BatchedStepTest}, {@code NodeFailureTest}).
 */
class PipelineSessionTest {
    private static final SamplingParams SAMPLING = SamplingParams.GREEDY;

    @Test
    void aFollowUpIsReplayedInTheShapeItsKeptCacheAndItsOwnStepsHad() {
        // the kept cache: a 40-position prompt computed as one chunk, then 20 decoded positions; 56 are shared
        PrefixIndex.Match match = new PrefixIndex.Match("k", 56, PrefillChunks.NONE.with(0, 40));
        Recording first = new Recording();
        Recording second = new Recording();
        PipelineSession session = new PipelineSession(first, (failed, failure) -> second, tokens(0, 90),
                SAMPLING, PrefillOptions.reserve(200), 50);
        session.prefill(match, false);
        for (int i = 0; i < 20; i++) {
            session.decode(1000 + i);
        }
        first.failNext = true;
        session.decode(1020);

        assertEquals(List.of("prefill 56-90 step 0", "decode 90 step 1", "decode 91 step 2"),
                first.calls.subList(0, 3), "continued from the kept 56 positions");
        assertEquals(List.of(
                "prefill 0-40 step 0",   // the kept prompt chunk, as one chunk
                "prefill 40-55 step 0",  // the kept cache's decoded positions, at most 15 at a time
                "prefill 55-56 step 0",
                "prefill 56-90 step 0",  // the follow-up's own prompt chunk
                "prefill 90-105 step 15", // its 21 fed tokens, at most 15 at a time; the last call is the failed step
                "prefill 105-111 step 21"), second.calls);
    }

    @Test
    void aShortPromptAndTheTokensFedBackAreReplayedInChunksOfAtMostFifteen() {
        // a 10-position prompt ran row by row like the decode steps after it: any split under 16 gives the same bits
        Recording first = new Recording();
        Recording second = new Recording();
        PipelineSession session = new PipelineSession(first, (failed, failure) -> second, tokens(0, 10), SAMPLING,
                PrefillOptions.reserve(100), 40);
        session.prefill(null, false);
        for (int i = 0; i < 30; i++) {
            session.decode(2000 + i);
        }
        first.failNext = true;
        session.decode(2030);
        assertEquals(List.of("prefill 0-15 step 5", "prefill 15-30 step 20", "prefill 30-41 step 31"), second.calls);
    }

    private static List<PromptSegment> tokens(int from, int to) {
        return List.of(new PromptSegment.Tokens(IntStream.range(from, to).toArray()));
    }

    /** Records each call as "kind start-end step n" over the positions it covers; fails the next call on request. */
    private static final class Recording implements DecoderPipeline {
        final List<String> calls = new ArrayList<>();
        boolean failNext;
        private int length;

        @Override
        public StepResult prefill(String sessionId, List<PromptSegment> segments, SamplingParams params, int step,
                                  boolean returnLogits) {
            return prefill(sessionId, segments, params, step, returnLogits, PrefillOptions.NONE);
        }

        @Override
        public StepResult prefill(String sessionId, List<PromptSegment> segments, SamplingParams params, int step,
                                  boolean returnLogits, PrefillOptions options) {
            int n = segments.stream().mapToInt(PromptSegment::length).sum();
            int start = options.reuses() ? options.reuseLength() : length;
            return step("prefill " + start + "-" + (start + n), start + n, step);
        }

        @Override
        public boolean keepsPrefixes() {
            return true;
        }

        @Override
        public StepResult decode(String sessionId, int token, SamplingParams params, int step, boolean returnLogits) {
            return step("decode " + length, length + 1, step);
        }

        private StepResult step(String call, int newLength, int step) {
            if (failNext) {
                failNext = false;
                throw Status.UNAVAILABLE.withDescription("stage lost").asRuntimeException();
            }
            calls.add(call + " step " + step);
            length = newLength;
            return new StepResult(1000 + step, null);
        }

        @Override
        public void release(String sessionId) {
        }

        @Override
        public void close() {
        }
    }
}
