package io.convllava.common.model;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.testing.FixtureKeys;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;

class ModelFilesTest {

    @Test
    void flatSafetensorsModelTakesTheTowerFromTheMainShards() throws Exception {
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        assertEquals(Fixtures.tinyModel().resolve("vision_tower").toAbsolutePath().normalize(), files.visionDir());
        assertEquals(5, files.visionConfig().numStages());
        try (TensorSource vision = files.openVisionWeights()) {
            assertEquals(FixtureKeys.visionTowerUsed("tiny-convllava"), vision.names());
            assertEquals(16 * 3 * 4 * 4, vision.readFloat("embeddings.patch_embeddings.weight", 16, 3, 4, 4).remaining());
        }
    }
}
