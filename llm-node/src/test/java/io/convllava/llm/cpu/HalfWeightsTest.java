package io.convllava.llm.cpu;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import io.convllava.llm.kernel.HalfMatrix;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bf16 demo model's weights as the CPU decoder keeps them: products' matrices copied, the embedding mapped. */
class HalfWeightsTest {
    private static final String EMBEDDING = "model.embed_tokens.weight";

    @Test
    void theEmbeddingTableStaysInTheCheckpointsMapWithItsValues() {
        try (TensorSource source = ModelFiles.resolve(Fixtures.shapesModel().toString(), null, null).openLlmWeights()) {
            long[] shape = source.info(EMBEDDING).shape();
            int rows = (int) shape[0];
            int cols = (int) shape[1];
            HalfMatrix table = new HalfWeights(source).table(EMBEDDING, rows, cols);
            assertFalse(table.inHeap(), "the embedding is read in place, one row per token");
            FloatBuffer stored = source.readFloat(EMBEDDING);
            for (int row : new int[] {0, 1, 29871, rows - 1}) {
                for (int c = 0; c < cols; c++) {
                    assertEquals(stored.get(row * cols + c), table.get(row, c), "row " + row + " column " + c);
                }
            }
        }
    }

    @Test
    void aProductsMatrixIsCopiedIntoTheHeap() {
        try (TensorSource source = ModelFiles.resolve(Fixtures.shapesModel().toString(), null, null).openLlmWeights()) {
            String name = "model.layers.0.self_attn.q_proj.weight";
            long[] shape = source.info(name).shape();
            HalfMatrix q = new HalfWeights(source).matrix(name, (int) shape[0], (int) shape[1]);
            assertTrue(q.inHeap(), "products read heap arrays (twice as fast as mapped memory on JDK 17)");
        }
    }
}
