package io.convllava.common.pipeline;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.PromptSegment;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A chain of decoder shards covering every layer, seen from whoever drives generation. Sampling happens at the
 * last stage so only a token id comes back per step. Implementations: in-process shards, or llm nodes over gRPC.
 * Each session's KV cache lives on the stages until {@link #release(String)}.
 */
public interface DecoderPipeline extends AutoCloseable {

    /** Runs the prompt (text tokens and image embeddings) through every stage and samples the first new token. */
    StepResult prefill(String sessionId, List<PromptSegment> segments, SamplingParams params, int step,
                       boolean returnLogits);

    /**
     * As {@link #prefill(String, List, SamplingParams, int, boolean)}, with a KV reservation for the session and,
     * where the pipeline {@link #keepsPrefixes() keeps prefixes}, a kept cache to continue from (then
     * {@code segments} hold only the positions after the reused ones).
     *
     * @throws PrefixUnavailableException when a stage no longer holds the kept cache (nothing is held then)
     */
    default StepResult prefill(String sessionId, List<PromptSegment> segments, SamplingParams params, int step,
                               boolean returnLogits, PrefillOptions options) {
        if (options.reuses()) {
            throw new UnsupportedOperationException(getClass().getSimpleName() + " keeps no prefixes");
        }
        return prefill(sessionId, segments, params, step, returnLogits);
    }

    /** A fresh session id for this pipeline's stages. */
    default String newSessionId() {
        return java.util.UUID.randomUUID().toString();
    }

    /** Whether {@link #release(String, String)} can keep caches for later sessions to continue from. */
    default boolean keepsPrefixes() {
        return false;
    }

    /**
     * Ends the session; where the pipeline {@link #keepsPrefixes() keeps prefixes} and {@code keepAs} is not empty,
     * its cache is kept under that key for {@link PrefillOptions#reuseKey()} (stages may evict it later).
     */
    default void release(String sessionId, String keepAs) {
        release(sessionId);
    }

    /** Feeds one token at the next position and samples the following one. */
    StepResult decode(String sessionId, int token, SamplingParams params, int step, boolean returnLogits);

    /**
     * {@link #decode} without holding the calling thread (logits are not returned): the future completes with the
     * step's result, or with the StatusRuntimeException it failed with, possibly on a transport thread, so what is
     * chained to it must not block. A session whose step failed may still be held on some stages: {@link #release}
     * it. The default runs {@link #decode} on the calling thread.
     */
    default CompletableFuture<StepResult> decodeAsync(String sessionId, int token, SamplingParams params, int step) {
        try {
            return CompletableFuture.completedFuture(decode(sessionId, token, params, step, false));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * The session sends no more decode steps (its release follows): the steps of other sessions stop waiting for its
     * next one. Never blocks.
     */
    default void endDecoding(String sessionId) {
    }

    /** Frees the session's KV cache on every stage; unknown sessions are ignored. */
    void release(String sessionId);

    @Override
    void close();
}
