package io.convllava.llm.model;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.tensor.PromptSegment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Shards covering all layers, chained in one process the way the cluster chains them over the network. */
final class ShardPipeline implements AutoCloseable {
    private final List<LlamaShard> shards;

    private ShardPipeline(List<LlamaShard> shards) {
        this.shards = shards;
    }

    /** {@code bounds} {0, a, b, ..., layers}: shards [0, a), [a, b), ... */
    static ShardPipeline load(LlmConfig cfg, TensorSource weights, int[] bounds) {
        return load(cfg, weights, bounds, Placement.parse("cpu"));
    }

    static ShardPipeline load(LlmConfig cfg, TensorSource weights, int[] bounds, Placement target) {
        List<LlamaShard> shards = new ArrayList<>();
        for (int i = 0; i + 1 < bounds.length; i++) {
            shards.add(LlamaShard.load(cfg, weights, bounds[i], bounds[i + 1], target, LoadProgress.silent()));
        }
        return new ShardPipeline(List.copyOf(shards));
    }

    static ShardPipeline whole(LlmConfig cfg, TensorSource weights) {
        return load(cfg, weights, new int[] {0, cfg.numHiddenLayers()});
    }

    List<LlamaShard> shards() {
        return shards;
    }

    /** Appends the prompt pieces to the session on every shard; returns the logits at the last new position. */
    float[] forward(String session, List<PromptSegment> prompt) {
        ShardInput input = new ShardInput.Segments(prompt);
        ShardOutput out = null;
        for (LlamaShard shard : shards) {
            out = shard.forward(session, input);
            if (!shard.isLast()) {
                input = new ShardInput.Hidden(out.hidden());
            }
        }
        return out.logits().copy();
    }

    float[] forwardToken(String session, int token) {
        return forward(session, List.of(new PromptSegment.Tokens(new int[] {token})));
    }

    /** Greedy decoding with the KV cache: one prefill, then one position per step. */
    int[] greedy(String session, List<PromptSegment> prompt, int steps) {
        int[] tokens = new int[steps];
        float[] logits = forward(session, prompt);
        for (int i = 0; i < steps; i++) {
            tokens[i] = argMax(logits);
            if (i + 1 < steps) {
                logits = forwardToken(session, tokens[i]);
            }
        }
        return tokens;
    }

    /** Greedy decoding without reusing any cache: each step re-runs the whole sequence in a fresh session. */
    int[] greedyWithoutCache(List<PromptSegment> prompt, int steps) {
        int[] tokens = new int[steps];
        for (int i = 0; i < steps; i++) {
            List<PromptSegment> sequence = new ArrayList<>(prompt);
            if (i > 0) {
                sequence.add(new PromptSegment.Tokens(Arrays.copyOf(tokens, i)));
            }
            String session = "nocache-" + i;
            tokens[i] = argMax(forward(session, sequence));
            release(session);
        }
        return tokens;
    }

    void release(String session) {
        shards.forEach(s -> s.release(session));
    }

    static int argMax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
        }
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    @Override
    public void close() {
        shards.forEach(LlamaShard::close);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (LlamaShard shard : shards) {
            s.append('[').append(shard.start()).append(", ").append(shard.end()).append(')');
        }
        return s.toString();
    }
}
