package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;

/** {@code model.embed_tokens}: token id -> row of the [vocab, H] table. */
final class TokenEmbedding {
    static final String WEIGHT = "model.embed_tokens.weight";

    private final NDArray table; // [vocab, H]
    private final int vocabSize;

    private TokenEmbedding(NDArray table, int vocabSize) {
        this.table = table;
        this.vocabSize = vocabSize;
    }

    static TokenEmbedding load(WeightLoader loader, int vocabSize, int hidden) {
        return new TokenEmbedding(loader.matrix(WEIGHT, vocabSize, hidden), vocabSize);
    }

    /** ids -> [n, H] in {@code manager}. */
    NDArray embed(NDManager manager, int[] ids) {
        long[] indices = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException("token id " + ids[i] + " at index " + i
                        + " is outside the vocabulary [0, " + vocabSize + ")");
            }
            indices[i] = ids[i];
        }
        NDArray idArray = manager.create(indices);
        // the first argument decides the output's manager: the call's, not the weights'
        return Embedding.embedding(idArray, table, SparseFormat.DENSE).singletonOrThrow();
    }
}
