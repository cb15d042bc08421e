package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** LLaMA RMSNorm, computed in float32 like HF: {@code w * (x / sqrt(mean(x^2) + eps)).to(dtype)}. */
final class RmsNorm {
    private final NDArray weight; // [H]
    private final float eps;

    RmsNorm(NDArray weight, double eps) {
        this.weight = weight;
        this.eps = (float) eps;
    }

    static RmsNorm load(WeightLoader loader, String name, int hidden, double eps) {
        return new RmsNorm(loader.vector(name, hidden), eps);
    }

    /** x: [T, H] in the activation dtype; returns [T, H] in the same dtype, in x's manager. */
    NDArray forward(NDArray x) {
        NDArray x32 = x.toType(DataType.FLOAT32, false);
        NDArray rms = x32.square().mean(new int[] {-1}, true).addi(eps).sqrt(); // [T, 1]
        return x32.div(rms).toType(x.getDataType(), false).muli(weight);
    }
}
