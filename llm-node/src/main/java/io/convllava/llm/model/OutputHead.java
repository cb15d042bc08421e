package io.convllava.llm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.convllava.common.config.LlmConfig;

/** The last stage's {@code model.norm} and {@code lm_head}, applied to the last position only. */
final class OutputHead {
    static final String NORM = "model.norm.weight";
    static final String LM_HEAD = "lm_head.weight";

    private final RmsNorm norm;
    private final NDArray lmHead; // [H, vocab]

    private OutputHead(RmsNorm norm, NDArray lmHead) {
        this.norm = norm;
        this.lmHead = lmHead;
    }

    /** With tied word embeddings and no stored {@code lm_head.weight}, the embedding table is the head. */
    static OutputHead load(WeightLoader loader, LlmConfig cfg) {
        String head = !loader.contains(LM_HEAD) && cfg.tieWordEmbeddings() ? TokenEmbedding.WEIGHT : LM_HEAD;
        return new OutputHead(RmsNorm.load(loader, NORM, cfg.hiddenSize(), cfg.rmsNormEps()),
                loader.fusedTransposed(cfg.hiddenSize(), new String[] {head}, new long[] {cfg.vocabSize()}));
    }

    /** x: [T, H] -> float32 logits [vocab] of the last row. */
    float[] logits(NDArray x) {
        long last = x.getShape().get(0) - 1;
        NDArray lastRow = x.get(x.getManager(), new NDIndex("{}:", last)); // [1, H]
        NDArray logits = norm.forward(lastRow).matMul(lmHead); // [1, vocab]
        return logits.toType(DataType.FLOAT32, false).toDevice(Device.cpu(), false).toFloatArray();
    }
}
