package io.convllava.llm.pipeline;

import io.convllava.common.pipeline.DecoderPipeline;
import io.convllava.common.pipeline.StepResult;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.ShardInput;
import io.convllava.llm.model.ShardOutput;

import java.util.List;

/** Decoder shards of this process chained in order: what the in-process CLI runs. */
public final class LocalPipeline implements DecoderPipeline {
    private final List<LlamaShard> shards;

    /** Which engine computes the decoder: "cpu" (Java on 16-bit weights) or "djl" (libtorch). */
    public String engineName() {
        return shards.get(0).engineName();
    }

    /** @param shards contiguous ranges from layer 0 to the last layer, in order */
    public LocalPipeline(List<LlamaShard> shards) {
        if (shards.isEmpty() || !shards.get(0).isFirst() || !shards.get(shards.size() - 1).isLast()) {
            throw new IllegalArgumentException("a pipeline needs shards from the first to the last layer");
        }
        for (int i = 1; i < shards.size(); i++) {
            if (shards.get(i).start() != shards.get(i - 1).end()) {
                throw new IllegalArgumentException("shard [" + shards.get(i).start() + ", " + shards.get(i).end()
                        + ") does not continue [" + shards.get(i - 1).start() + ", " + shards.get(i - 1).end() + ")");
            }
        }
        this.shards = List.copyOf(shards);
    }

    @Override
    public StepResult prefill(String sessionId, List<PromptSegment> segments, SamplingParams params, int step,
                              boolean returnLogits) {
        return run(sessionId, new ShardInput.Segments(segments), params, step, returnLogits);
    }

    @Override
    public StepResult decode(String sessionId, int token, SamplingParams params, int step, boolean returnLogits) {
        return run(sessionId, new ShardInput.Segments(List.of(new PromptSegment.Tokens(new int[] {token}))), params,
                step, returnLogits);
    }

    private StepResult run(String sessionId, ShardInput input, SamplingParams params, int step, boolean returnLogits) {
        ShardOutput out = null;
        for (LlamaShard shard : shards) {
            out = shard.forward(sessionId, input);
            input = out.hidden() == null ? null : new ShardInput.Hidden(out.hidden());
        }
        return new StepResult(out.logits().pick(params, step), returnLogits ? out.logits().copy() : null);
    }

    @Override
    public void release(String sessionId) {
        for (LlamaShard shard : shards) {
            shard.release(sessionId);
        }
    }

    @Override
    public void close() {
        for (LlamaShard shard : shards) {
            shard.close();
        }
    }
}
