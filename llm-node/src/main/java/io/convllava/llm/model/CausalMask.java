package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** The additive causal mask of new positions over cached plus new ones; decode steps (one position) need none. */
final class CausalMask {
    private CausalMask() {
    }

    /** float32 [length, past + length]: row i (position past + i) may see columns 0..past + i. */
    static NDArray create(NDManager manager, int past, int length) {
        int columns = past + length;
        float[] mask = new float[length * columns];
        for (int i = 0; i < length; i++) {
            java.util.Arrays.fill(mask, i * columns + past + i + 1, (i + 1) * columns, Float.NEGATIVE_INFINITY);
        }
        return manager.create(mask, new Shape(length, columns));
    }
}
