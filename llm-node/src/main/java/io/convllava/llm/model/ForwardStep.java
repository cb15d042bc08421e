package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * What every layer of one forward call shares: the call's manager, the session's cache, the new positions
 * [past, past + length), their RoPE rows and, when more than one position is new, the causal mask.
 *
 * @param mask float32 [length, past + length] with 0 where attention is allowed and -inf elsewhere; null for length 1
 */
record ForwardStep(NDManager manager, KvCache cache, int past, int length, RotaryEmbedding.Angles angles, NDArray mask) {

    /** Positions the new tokens attend to: everything cached plus themselves. */
    int contextLength() {
        return past + length;
    }
}
