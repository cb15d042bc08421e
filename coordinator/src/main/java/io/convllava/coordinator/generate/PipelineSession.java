package io.convllava.coordinator.generate;

import io.convllava.common.pipeline.DecoderPipeline;
import io.convllava.common.pipeline.PrefillOptions;
import io.convllava.common.pipeline.PrefixUnavailableException;
import io.convllava.common.pipeline.StepResult;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.coordinator.prefix.PrefixIndex;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;

/**
 * A generation's KV cache on a pipeline, with what rebuilds it on another one: the prompt and every token fed back
 * since. When a call fails and the {@link Failover} finds another pipeline, the session moves there: the prompt is
 * prefilled again, the fed tokens follow in chunks of at most {@value #REPLAY_CHUNK} positions (few enough that each
 * position runs exactly as its decode step did: attention row by row, the batch-invariant weight products), and
 * the failed step is repeated with the same sampling parameters and step number. Sampling depends only on (seed,
 * step), so the stream goes on with the tokens an uninterrupted run gives.
 */
final class PipelineSession {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineSession.class);
    static final int REPLAY_CHUNK = 15;

    private final Failover failover;
    private final List<PromptSegment> prompt;
    private final SamplingParams sampling;
    private final PrefillOptions reservation;
    private final int[] fed;
    private DecoderPipeline pipeline;
    private String id;
    private int fedCount;
    private int reused;
    private int moves;

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
        this.sampling = sampling;
        this.reservation = reservation;
        this.fed = new int[maxFed];
    }

    /**
     * Runs the prompt and samples the first token, continuing from {@code match} (a cache the pipeline keeps) when
     * it is still held there.
     */
    StepResult prefill(PrefixIndex.Match match, boolean returnLogits) {
        int promptLength = promptLength();
        try {
            if (match != null) {
                try {
                    StepResult step = pipeline.prefill(id, PromptSegment.slice(prompt, match.length(), promptLength),
                            sampling, 0, returnLogits, reservation.continuing(match.key(), match.length()));
                    reused = match.length();
                    return step;
                } catch (PrefixUnavailableException e) {
                    id = pipeline.newSessionId(); // the stages hold nothing of it: start afresh
                }
            }
            return pipeline.prefill(id, prompt, sampling, 0, returnLogits, reservation);
        } catch (StatusRuntimeException e) {
            return move(e, returnLogits);
        }
    }

    /** Feeds {@code token} at the next position and samples the one after it (step: the tokens fed so far). */
    StepResult decode(int token) {
        fed[fedCount++] = token;
        try {
            return pipeline.decode(id, token, sampling, fedCount, false);
        } catch (StatusRuntimeException e) {
            return move(e, false);
        }
    }

    /** Tokens fed back so far: the cache holds the prompt and these. */
    int fedCount() {
        return fedCount;
    }

    private int promptLength() {
        return prompt.stream().mapToInt(PromptSegment::length).sum();
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
                    id, last.getStatus().getCode(), last.getStatus().getDescription(), promptLength(), fedCount);
            try {
                return replay(returnLogits);
            } catch (StatusRuntimeException e) {
                last = e;
            }
        }
    }

    private StepResult replay(boolean returnLogits) {
        StepResult step = pipeline.prefill(id, prompt, sampling, 0, returnLogits && fedCount == 0, reservation);
        for (int done = 0; done < fedCount; ) {
            if (step.token() != fed[done]) {
                LOG.warn("session {}: the replay sampled token {} at step {} where the stream had {}", id,
                        step.token(), done, fed[done]);
            }
            int n = Math.min(REPLAY_CHUNK, fedCount - done);
            int[] chunk = Arrays.copyOfRange(fed, done, done + n);
            done += n;
            step = pipeline.prefill(id, List.of(new PromptSegment.Tokens(chunk)), sampling, done,
                    returnLogits && done == fedCount, PrefillOptions.NONE);
        }
        return step;
    }
}
