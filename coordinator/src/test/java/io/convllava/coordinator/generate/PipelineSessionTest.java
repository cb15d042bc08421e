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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a session replays after its pipeline fails: every position again, in the shape it was first computed, and
 * the failed step with its step number; decode steps chained on the threads that answer them, a failed one recovered
 * by the caller. The pipelines here only record the calls they get (the numerics of each
 * shape are the nodes' business: {@code BatchedStepTest}, {@code NodeFailureTest}).
 */
class PipelineSessionTest {
    private static final SamplingParams SAMPLING = SamplingParams.GREEDY;

    @Test
    void aFollowUpIsReplayedInTheShapeItsKeptCacheAndItsOwnStepsHad() {
        // the kept cache: a 200-position prompt computed as one chunk, then 140 decoded positions; 336 are shared
        PrefixIndex.Match match = new PrefixIndex.Match("k", 336, PrefillChunks.NONE.with(0, 200));
        Recording first = new Recording();
        Recording second = new Recording();
        PipelineSession session = new PipelineSession(first, (failed, failure) -> second, tokens(0, 500),
                SAMPLING, PrefillOptions.reserve(1000), 200);
        feedThenFail(session, session.prefill(match, false).token(), 130, first);

        assertEquals(List.of("prefill 336-500 step 0", "decode 500 step 1", "decode 501 step 2"),
                first.calls.subList(0, 3), "continued from the kept 336 positions");
        assertEquals(List.of(
                "prefill 0-200 step 0",    // the kept prompt chunk, as one chunk
                "prefill 200-327 step 0",  // the kept cache's decoded positions, at most 127 at a time
                "prefill 327-336 step 0",
                "prefill 336-500 step 0",  // the follow-up's own prompt chunk
                "prefill 500-627 step 127", // its 131 fed tokens, at most 127 at a time; the last: the failed step
                "prefill 627-631 step 131"), second.calls);
    }

    @Test
    void aShortPromptAndTheTokensFedBackAreReplayedInChunksOfAtMost127() {
        // a 100-position prompt ran row by row like the decode steps after it: any split under 128 gives the same bits
        Recording first = new Recording();
        Recording second = new Recording();
        PipelineSession session = new PipelineSession(first, (failed, failure) -> second, tokens(0, 100), SAMPLING,
                PrefillOptions.reserve(1000), 300);
        feedThenFail(session, session.prefill(null, false).token(), 200, first);
        assertEquals(List.of("prefill 0-127 step 27", "prefill 127-254 step 154", "prefill 254-301 step 201"),
                second.calls);
    }

    @Test
    void decodeStepsContinueWhereTheirAnswersArriveAndAFailedOneIsRecoveredByTheCaller() throws Exception {
        ExecutorService transport = Executors.newSingleThreadExecutor(r -> new Thread(r, "transport"));
        try {
            Recording first = new Recording();
            Recording second = new Recording();
            Asynchronous firstAsync = new Asynchronous(first, transport);
            Asynchronous secondAsync = new Asynchronous(second, transport);
            PipelineSession session = new PipelineSession(firstAsync, (failed, failure) -> secondAsync,
                    tokens(0, 100), SAMPLING, PrefillOptions.reserve(1000), 30);
            List<Integer> seen = new ArrayList<>();
            List<String> threads = new ArrayList<>();
            int token = session.prefill(null, false).token();
            session.decodeWhile(token, t -> {
                seen.add(t);
                threads.add(Thread.currentThread().getName());
                if (t == 1009) {
                    first.failNext = true; // the step that feeds token 1009 back fails
                }
                return seen.size() < 20;
            });

            assertEquals(IntStream.range(1000, 1020).boxed().toList(), seen, "every token once, in order");
            assertTrue(threads.contains("transport"), "answers continue on the thread they arrive on: " + threads);
            assertEquals(Thread.currentThread().getName(), threads.get(10), "the recovered step, on the caller");
            assertEquals(List.of("prefill 0-110 step 10", "decode 110 step 11"), second.calls.subList(0, 2),
                    "the prompt and the 10 fed tokens replayed, the failed step with its number, then on");
            assertEquals(19, session.fedCount());
            assertEquals(0, firstAsync.ended);
            assertEquals(1, secondAsync.ended, "the last pipeline was told decoding ended");
        } finally {
            transport.shutdownNow();
        }
    }

    /** Feeds {@code fed} tokens back, then one more whose step fails on {@code pipeline}; stops after the replay. */
    private static void feedThenFail(PipelineSession session, int first, int fed, Recording pipeline) {
        int[] told = {0};
        session.decodeWhile(first, token -> {
            told[0]++;
            if (told[0] == fed + 1) {
                pipeline.failNext = true;
            }
            return told[0] <= fed + 1;
        });
        assertEquals(fed + 2, told[0], "the replay's token was told too");
    }

    private static List<PromptSegment> tokens(int from, int to) {
        return List.of(new PromptSegment.Tokens(IntStream.range(from, to).toArray()));
    }

    /** A recording pipeline whose decode steps answer on another thread, as a transport's would. */
    private static final class Asynchronous implements DecoderPipeline {
        final Recording recording;
        final ExecutorService transport;
        int ended;

        Asynchronous(Recording recording, ExecutorService transport) {
            this.recording = recording;
            this.transport = transport;
        }

        @Override
        public StepResult prefill(String sessionId, List<PromptSegment> segments, SamplingParams params, int step,
                                  boolean returnLogits) {
            return recording.prefill(sessionId, segments, params, step, returnLogits);
        }

        @Override
        public StepResult decode(String sessionId, int token, SamplingParams params, int step, boolean returnLogits) {
            return recording.decode(sessionId, token, params, step, returnLogits);
        }

        @Override
        public CompletableFuture<StepResult> decodeAsync(String sessionId, int token, SamplingParams params,
                                                         int step) {
            return CompletableFuture.supplyAsync(() -> {
                LockSupport.parkNanos(1_000_000); // answers arrive after the caller has chained its continuation
                return decode(sessionId, token, params, step, false);
            }, transport);
        }

        @Override
        public void endDecoding(String sessionId) {
            ended++;
        }

        @Override
        public void release(String sessionId) {
        }

        @Override
        public void close() {
        }
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
