package io.convllava.vision.model;

import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelRevisionTest {
    @TempDir
    Path dir;

    @Test
    void theSameFilesGiveTheSameRevision() {
        ModelFiles tiny = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        String revision = ModelRevision.of(tiny, 256, "FLOAT32");
        assertTrue(revision.matches("[0-9a-f]{16}"), revision);
        assertEquals(revision, ModelRevision.of(ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null), 256,
                "float32"));
    }

    @Test
    void resolutionPrecisionConfigsAndWeightFilesChangeIt() throws Exception {
        Path copy = Fixtures.tinyModelWithoutWeights(dir);
        Path weights = copy.resolve("model-00001-of-00002.safetensors");
        Files.write(weights, new byte[100]);
        Files.setLastModifiedTime(weights, FileTime.fromMillis(1_000_000));
        String base = ModelRevision.of(files(copy), 256, "FLOAT32");

        assertNotEquals(base, ModelRevision.of(files(copy), 512, "FLOAT32"));
        assertNotEquals(base, ModelRevision.of(files(copy), 256, "FLOAT16"));

        Files.setLastModifiedTime(weights, FileTime.fromMillis(2_000_000));
        String touched = ModelRevision.of(files(copy), 256, "FLOAT32");
        assertNotEquals(base, touched);

        Files.write(weights, new byte[101]);
        Files.setLastModifiedTime(weights, FileTime.fromMillis(2_000_000));
        String resized = ModelRevision.of(files(copy), 256, "FLOAT32");
        assertNotEquals(touched, resized);

        Path towerConfig = copy.resolve("vision_tower/preprocessor_config.json");
        Files.writeString(towerConfig, Files.readString(towerConfig) + "\n");
        String reconfigured = ModelRevision.of(files(copy), 256, "FLOAT32");
        assertNotEquals(resized, reconfigured);

        Files.writeString(copy.resolve("tokenizer_config.json"), "{}"); // not part of the encoder
        assertEquals(reconfigured, ModelRevision.of(files(copy), 256, "FLOAT32"));
    }

    private static ModelFiles files(Path dir) {
        return ModelFiles.resolve(dir.toString(), null, null);
    }
}
