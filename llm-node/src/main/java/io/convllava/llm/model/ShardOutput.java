package io.convllava.llm.model;

import io.convllava.common.tensor.HostTensor;

/**
 * What one {@link LlamaShard#forward} call produces.
 *
 * @param hidden hidden states [T, H] for the next stage (non-last shards), else null
 * @param logits float32 logits [vocab] at the last new position (last shard), else null; in a step's buffer for
 *               {@link LlamaShard#forwardBatch} (see {@link LogitsRow})
 */
public record ShardOutput(HostTensor hidden, LogitsRow logits) {
}
