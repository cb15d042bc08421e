package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Rotate-half RoPE with tables precomputed once for every position, as HF LlamaRotaryEmbedding:
 * {@code inv_freq[i] = 1 / theta^(2i/d)}, {@code emb = cat(freqs, freqs)}, all in float32, cast to the activation dtype.
 * The sine table is stored with its first half negated, so that {@code rotate_half(x) * sin} becomes
 * {@code cat(x2, x1) * signedSin} and needs no negation per call.
 */
final class RotaryEmbedding {
    private final NDArray cos;       // [maxPos, 1, d]
    private final NDArray signedSin; // [maxPos, 1, d]

    private RotaryEmbedding(NDArray cos, NDArray signedSin) {
        this.cos = cos;
        this.signedSin = signedSin;
    }

    static RotaryEmbedding create(WeightLoader loader, int headDim, int maxPositions, double theta) {
        int half = headDim / 2;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            invFreq[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        float[] cos = new float[maxPositions * headDim];
        float[] sin = new float[maxPositions * headDim];
        for (int p = 0; p < maxPositions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = p * invFreq[i]; // float32 product, as the reference's matmul of positions and inv_freq
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                int row = p * headDim;
                cos[row + i] = c;
                cos[row + half + i] = c;
                sin[row + i] = -s;
                sin[row + half + i] = s;
            }
        }
        Shape shape = new Shape(maxPositions, 1, headDim);
        return new RotaryEmbedding(loader.table(cos, shape), loader.table(sin, shape));
    }

    /** The table rows of positions [past, past + T), created in the call's manager. */
    Angles angles(NDManager manager, int past, int length) {
        NDIndex rows = new NDIndex("{}:{}", past, past + length);
        return new Angles(cos.get(manager, rows), signedSin.get(manager, rows));
    }

    /** x: [T, heads, d] -> [T, heads, d] rotated, in x's manager. */
    NDArray apply(NDArray x, Angles angles) {
        NDList halves = x.split(2, 2);
        NDArray swapped = halves.get(1).concat(halves.get(0), 2); // cat(x2, x1)
        return x.mul(angles.cos()).addi(swapped.muli(angles.signedSin()));
    }

    /** cos and signed sin rows of one call's positions: [T, 1, d] each. */
    record Angles(NDArray cos, NDArray signedSin) {
    }
}
