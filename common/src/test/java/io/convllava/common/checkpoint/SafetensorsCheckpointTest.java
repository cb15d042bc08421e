package io.convllava.common.checkpoint;

import io.convllava.common.testing.FixtureKeys;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsCheckpointTest {

    @Test
    void shardedSafetensorsListsEveryReferenceKey() throws Exception {
        try (TensorSource src = Checkpoints.open(Fixtures.tinyModel())) {
            assertEquals(FixtureKeys.stateDict("tiny-convllava"), src.names());
            TensorInfo embed = src.info("model.embed_tokens.weight");
            assertEquals(DType.BF16, embed.dtype());
            assertArrayEquals(new long[] {32000, 64}, embed.shape());
            FloatBuffer w = src.readFloat("model.embed_tokens.weight", 32000, 64);
            assertEquals(32000 * 64, w.remaining());
            assertTrue(w.isDirect());
            assertEquals(ByteOrder.nativeOrder(), w.order());
        }
    }
}
