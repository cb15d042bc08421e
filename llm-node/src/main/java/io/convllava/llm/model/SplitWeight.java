package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * A weight [in, out] used as {@code x.matMul(full)}, with views (no copies) of its columns [0, split) and
 * [split, out) so that a one-row product can be computed in two halves on two threads.
 */
record SplitWeight(NDArray full, NDArray left, NDArray right) {

    /** Call before the weights' manager is capped: the views belong to {@code full}'s manager. */
    static SplitWeight of(NDArray full, long split) {
        return new SplitWeight(full, full.get(new NDIndex(":, :{}", split)), full.get(new NDIndex(":, {}:", split)));
    }

    static SplitWeight halves(NDArray full) {
        return of(full, full.getShape().get(1) / 2);
    }

    long split() {
        return left.getShape().get(1);
    }
}
