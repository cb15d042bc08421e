package io.convllava.coordinator.generate;

import io.convllava.common.pipeline.DecoderPipeline;
import io.convllava.common.pipeline.PrefillOptions;
import io.convllava.common.pipeline.PrefixUnavailableException;
import io.convllava.common.pipeline.StepResult;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.coordinator.prefix.PrefillChunks;
import io.convllava.coordinator.prefix.PrefixIndex;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.IntPredicate;

/**
 * A generation's KV cache on a pipeline, with what rebuilds it on another one: the prompt and every token fed back
 * since. When a call fails and the {@link Failover} finds another pipeline, the session moves there and computes its
 * cache again the way it was computed ({@link PrefillChunks}): each prompt chunk as one chunk, the fed tokens (and
 * positions a kept cache had from decode steps) in chunks of at most {@value #REPLAY_CHUNK} positions (few enough
 * that each position runs exactly as its decode step did), and the failed step is repeated with the same sampling
 * parameters and step number. Sampling depends only on (seed, step), so the stream goes on with the tokens an
 * uninterrupted run gives.
 */
final class PipelineSession {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineSession.class);
    static final int REPLAY_CHUNK = PrefillChunks.ROW_WISE;

    private final Failover failover;
    private final List<PromptSegment> prompt;
    private final int promptLength;
    private final SamplingParams sampling;
    private final PrefillOptions reservation;
    private final int[] fed;
    private DecoderPipeline pipeline;
    private String id;
    private int fedCount;
    private int reused;
    private int moves;
    /** How the cache's positions are computed (in an uninterrupted run): what a replay repeats. */
    private PrefillChunks chunks = PrefillChunks.NONE;

    /**
     * @param failover    null: a failed call fails the generation
     * @param prompt      every position of the prompt
     * @param reservation the KV reservation asked of the stages
     * @param maxFed      tokens that may be fed back at most
     */
    PipelineSession(DecoderPipeline pipeline, Failover failover, List<PromptSegment> prompt, SamplingParams sampling,
                    PrefillOptions reservation, int maxFed) {
        this.pipeline = pipeline;
        this.id = pipeline.newSessionId();
        this.failover = failover;
        this.prompt = List.copyOf(prompt);
        this.promptLength = prompt.stream().mapToInt(PromptSegment::length).sum();
        this.sampling = sampling;
        this.reservation = reservation;
        this.fed = new int[maxFed];
    }

    /**
     * Runs the prompt and samples the first token, continuing from {@code match} (a cache the pipeline keeps) when
     * it is still held there.
     */
    StepResult prefill(PrefixIndex.Match match, boolean returnLogits) {
        try {
            if (match != null) {
                chunks = match.chunks().with(match.length(), promptLength);
                try {
                    StepResult step = pipeline.prefill(id, PromptSegment.slice(prompt, match.length(), promptLength),
                            sampling, 0, returnLogits, reservation.continuing(match.key(), match.length()));
                    reused = match.length();
                    return step;
                } catch (PrefixUnavailableException e) {
                    id = pipeline.newSessionId(); // the stages hold nothing of it: start afresh
                }
            }
            chunks = PrefillChunks.NONE.with(0, promptLength);
            return pipeline.prefill(id, prompt, sampling, 0, returnLogits, reservation);
        } catch (StatusRuntimeException e) {
            return move(e, returnLogits);
        }
    }

    /**
     * Feeds back the tokens that {@code carryOn} accepts: it is told every sampled token in order, {@code token} (the
     * prefill's) first, and says whether that one is fed back to sample the next; returns once it has declined one.
     * The steps go out without holding this thread: each one's answer runs {@code carryOn} and sends the next step on
     * the thread that received it (within this thread's gRPC context: deadline, cancellation, request id), so
     * {@code carryOn} must not block. Each step is numbered by the tokens fed so far. A failed step is recovered on
     * this thread: the session moves to the pipeline the failover gives, replays, and the stream goes on.
     *
     * @throws RuntimeException what {@code carryOn} threw, or the failure the session could not recover from
     */
    void decodeWhile(int token, IntPredicate carryOn) {
        if (!carryOn.test(token)) {
            return;
        }
        Context context = Context.current();
        while (true) {
            CompletableFuture<Void> declined = new CompletableFuture<>();
            feed(token, carryOn, context, declined);
            try {
                declined.join();
                return;
            } catch (CompletionException e) {
                if (!(e.getCause() instanceof FailedStep failed)) {
                    throw e.getCause() instanceof RuntimeException r ? r : e;
                }
                pipeline.release(id); // stages the failed step never reached may still hold the session
                token = move(failed.failure, false).token();
                if (!carryOn.test(token)) {
                    return;
                }
            }
        }
    }

    /** Feeds tokens from {@code token} on until {@code carryOn} declines one or a step fails: {@code declined} says. */
    private void feed(int token, IntPredicate carryOn, Context context, CompletableFuture<Void> declined) {
        while (true) {
            fed[fedCount++] = token;
            CompletableFuture<StepResult> step;
            try {
                step = pipeline.decodeAsync(id, token, sampling, fedCount);
            } catch (RuntimeException e) {
                step = CompletableFuture.failedFuture(e);
            }
            if (!step.isDone()) {
                step.whenComplete((result, failure) -> context.run(() -> {
                    try {
                        if (next(result, failure, carryOn, declined)) {
                            feed(result.token(), carryOn, context, declined);
                        }
                    } catch (Throwable t) { // nobody else sees what a continuation throws: the waiting thread must
                        declined.completeExceptionally(t);
                    }
                }));
                return;
            }
            StepResult result = null;
            Throwable failure = null;
            try {
                result = step.join();
            } catch (RuntimeException e) {
                failure = e;
            }
            if (!next(result, failure, carryOn, declined)) {
                return;
            }
            token = result.token();
        }
    }

    /** Whether the step's token is fed back; else {@code declined} is completed (normally, or with what failed). */
    private boolean next(StepResult result, Throwable failure, IntPredicate carryOn, CompletableFuture<Void> declined) {
        if (failure != null) {
            Throwable cause = failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure;
            declined.completeExceptionally(cause instanceof StatusRuntimeException s ? new FailedStep(s) : cause);
            return false;
        }
        try {
            if (carryOn.test(result.token())) {
                return true;
            }
            pipeline.endDecoding(id);
            declined.complete(null);
        } catch (Throwable t) {
            declined.completeExceptionally(t);
        }
        return false;
    }

    /** A decode step's failure, recovered by the thread in {@link #decodeWhile}. */
    private static final class FailedStep extends RuntimeException {
        final transient StatusRuntimeException failure;

        FailedStep(StatusRuntimeException failure) {
            super(failure.getMessage(), failure, false, false);
            this.failure = failure;
        }
    }

    /** Tokens fed back so far: the cache holds the prompt and these. */
    int fedCount() {
        return fedCount;
    }

    /** Prompt positions taken from a kept cache instead of being computed. */
    int reusedPositions() {
        return reused;
    }

    /**
     * Ends the session; its cache is kept under {@code keepAs} only where it never moved (the prefixes a request
     * continues from belong to the pipeline it started on).
     *
     * @return whether the cache was kept
     */
    boolean release(String keepAs) {
        if (keepAs == null || moves > 0) {
            pipeline.release(id);
            return false;
        }
        pipeline.release(id, keepAs);
        return true;
    }

    /** Moves to the pipelines the failover gives until one replays the session, or the failover gives up. */
    private StepResult move(StatusRuntimeException failure, boolean returnLogits) {
        if (failover == null) {
            throw failure;
        }
        StatusRuntimeException last = failure;
        while (true) {
            String from = id;
            pipeline = failover.replace(pipeline, last);
            id = pipeline.newSessionId();
            moves++;
            LOG.warn("session {} moves to session {} after {} ({}): replaying {} prompt positions and {} tokens", from,
                    id, last.getStatus().getCode(), last.getStatus().getDescription(), promptLength, fedCount);
            try {
                return replay(returnLogits);
            } catch (StatusRuntimeException e) {
                last = e;
            }
        }
    }

    /**
     * Computes the cache again as it was computed: each recorded prompt chunk as one chunk, every other position
     * (fed tokens, short prompt rests) in chunks of at most {@value #REPLAY_CHUNK}; the last call samples the step the
     * session is at.
     */
    private StepResult replay(boolean returnLogits) {
        int end = promptLength + fedCount;
        List<PrefillChunks.Range> ranges = chunks.ranges();
        StepResult step = null;
        int next = 0;
        for (int from = 0; from < end; ) {
            int to;
            if (next < ranges.size() && ranges.get(next).start() == from) {
                to = Math.min(ranges.get(next++).end(), end);
            } else {
                int limit = next < ranges.size() ? ranges.get(next).start() : end;
                to = Math.min(limit, from + REPLAY_CHUNK);
            }
            int fedIncluded = Math.max(0, to - promptLength);
            step = pipeline.prefill(id, positions(from, to), sampling, fedIncluded, returnLogits && to == end,
                    from == 0 ? reservation : PrefillOptions.NONE);
            if (to >= promptLength && to < end && step.token() != fed[fedIncluded]) {
                LOG.warn("session {}: the replay sampled token {} at step {} where the stream had {}", id,
                        step.token(), fedIncluded, fed[fedIncluded]);
            }
            from = to;
        }
        return step;
    }

    /** The content of cache positions {@code [from, to)}: prompt, then fed tokens. */
    private List<PromptSegment> positions(int from, int to) {
        List<PromptSegment> out = new ArrayList<>();
        if (from < promptLength) {
            out.addAll(PromptSegment.slice(prompt, from, Math.min(to, promptLength)));
        }
        if (to > promptLength) {
            out.add(new PromptSegment.Tokens(Arrays.copyOfRange(fed, Math.max(from, promptLength) - promptLength,
                    to - promptLength)));
        }
        return out;
    }

    /** How the cache's positions were computed, for a kept cache to record ({@link PrefixIndex#add}). */
    PrefillChunks chunks() {
        return chunks;
    }
}
