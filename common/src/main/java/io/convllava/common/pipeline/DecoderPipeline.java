package io.convllava.common.pipeline;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.PromptSegment;

import java.util.List;

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
     * As {@link #prefill(String, List, SamplingParams, int, boolean)}, telling the stages how many positions the
     * session may reach (prompt plus the new tokens it may generate), so that they admit it only with KV memory for
     * all of them. Pipelines without such accounting ignore it.
     */
    default StepResult prefill(String sessionId, List<PromptSegment> segments, SamplingParams params, int step,
                               boolean returnLogits, int reservePositions) {
        return prefill(sessionId, segments, params, step, returnLogits);
    }

    /** Feeds one token at the next position and samples the following one. */
    StepResult decode(String sessionId, int token, SamplingParams params, int step, boolean returnLogits);

    /** Frees the session's KV cache on every stage; unknown sessions are ignored. */
    void release(String sessionId);

    @Override
    void close();
}
