package io.convllava.common.model;

import io.convllava.common.checkpoint.CheckpointException;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.testing.FixtureKeys;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static io.convllava.common.testing.BitExact.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFilesTest {
    static final String HUBTINY_ID = "ConvLLaVA/ConvLLaVA-sft-tiny";
    static final String HOLDOUT_ID = "ConvLLaVA/ConvLLaVA-sft-384";

    @TempDir
    Path tmp;

    @Test
    void flatSafetensorsModelTakesTheTowerFromTheMainShards() {
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), tmp, null);
        assertEquals(Fixtures.tinyModel().toAbsolutePath().normalize(), files.llmDir());
        assertEquals(files.llmDir().resolve("vision_tower"), files.visionDir());
        assertEquals(5, files.visionConfig().numStages());
        assertEquals(256, files.preprocessorConfig().shortestEdge());
        assertFalse(files.visionHasOwnWeights());
        try (TensorSource llm = files.openLlmWeights(); TensorSource vision = files.openVisionWeights()) {
            assertEquals(FixtureKeys.stateDict("tiny-convllava"), llm.names());
            assertEquals(FixtureKeys.visionTowerUsed("tiny-convllava"), vision.names());
            assertEquals(16 * 3 * 4 * 4, vision.readFloat("embeddings.patch_embeddings.weight", 16, 3, 4, 4).remaining());
        }
    }

    @Test
    void hubIdResolvesInTheCacheAndTheTowerRepoHasItsOwnBinWithTheSameWeights() {
        ModelFiles hub = ModelFiles.resolve(HUBTINY_ID, Fixtures.hubtinyCache(), null);
        assertEquals(HubCache.snapshot(Fixtures.hubtinyCache(), HUBTINY_ID), hub.llmDir());
        assertEquals(HubCache.snapshot(Fixtures.hubtinyCache(), "ConvLLaVA/ConvLLaVA-ConvNeXt-tiny"), hub.visionDir());
        assertTrue(hub.visionHasOwnWeights());
        ModelFiles flat = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        try (TensorSource bin = hub.openVisionWeights(); TensorSource st = flat.openVisionWeights()) {
            assertEquals(FixtureKeys.visionTowerUsed("hubtiny-convllava"), bin.names());
            for (String name : bin.names()) {
                assertSameBits(st.readFloat(name), bin.readFloat(name), name);
            }
        }
    }

    @Test
    void holdoutResolvesByHubId() {
        ModelFiles files = ModelFiles.resolve(HOLDOUT_ID, Fixtures.holdoutCache(), null);
        assertEquals(2, files.llmConfig().numKeyValueHeads());
        assertEquals(160, files.visionConfig().outputChannels());
        assertEquals(384, files.preprocessorConfig().cropHeight());
        try (TensorSource llm = files.openLlmWeights(); TensorSource vision = files.openVisionWeights()) {
            assertEquals(FixtureKeys.stateDict("holdout-convllava"), llm.names());
            assertEquals(FixtureKeys.visionTowerUsed("holdout-convllava"), vision.names());
        }
    }

    @Test
    void overrideWinsOverTheConfiguredTower() {
        Path tower = HubCache.snapshot(Fixtures.hubtinyCache(), "ConvLLaVA/ConvLLaVA-ConvNeXt-tiny");
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, tower);
        assertEquals(tower.toAbsolutePath().normalize(), files.visionDir());
        assertTrue(files.visionHasOwnWeights());
    }

    @Test
    void absoluteTowerPathWithoutWeightsFallsBackToTheMainCheckpoint() throws Exception {
        Path llm = copyTinyWeights(tmp.resolve("llm"));
        Path tower = Fixtures.tinyModel().resolve("vision_tower").toAbsolutePath();
        writeConfig(llm, tower.toString());
        ModelFiles files = ModelFiles.resolve(llm.toString(), null, null);
        assertEquals(tower.normalize(), files.visionDir());
        try (TensorSource vision = files.openVisionWeights()) {
            assertEquals(FixtureKeys.visionTowerUsed("tiny-convllava"), vision.names());
        }
    }

    @Test
    void towerKeysWithAShortPrefixAreAcceptedAndTheFinalNormIsHidden() throws Exception {
        Path llm = copyTinyWeights(tmp.resolve("llm"));
        writeConfig(llm, "./my_tower");
        Path tower = Files.createDirectories(llm.resolve("my_tower"));
        Path towerSrc = Fixtures.tinyModel().resolve("vision_tower");
        Files.copy(towerSrc.resolve("config.json"), tower.resolve("config.json"));
        Files.copy(towerSrc.resolve("preprocessor_config.json"), tower.resolve("preprocessor_config.json"));
        writeSafetensors(tower.resolve("model.safetensors"), "vision_tower.embeddings.patch_embeddings.weight",
                "vision_tower.layernorm.weight", "vision_tower.encoder.stages.0.layers.0.layernorm.weight");
        ModelFiles files = ModelFiles.resolve(llm.toString(), null, null);
        assertTrue(files.visionHasOwnWeights());
        try (TensorSource vision = files.openVisionWeights()) {
            assertEquals(Set.of("embeddings.patch_embeddings.weight", "encoder.stages.0.layers.0.layernorm.weight"),
                    vision.names());
            assertEquals(1f, vision.readFloat("embeddings.patch_embeddings.weight").get(0));
        }
    }

    @Test
    void unknownModelSaysWhereItLooked() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ModelFiles.resolve("Nobody/Nothing", tmp, null));
        assertTrue(e.getMessage().contains("Nobody/Nothing"), e.getMessage());
        assertTrue(e.getMessage().contains(tmp.resolve("models--Nobody--Nothing").toString()), e.getMessage());
    }

    @Test
    void missingConfigsAndTowersAreNamed() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ModelFiles.resolve(empty.toString(), tmp, null));
        assertTrue(e.getMessage().contains(empty.resolve("config.json").toString()), e.getMessage());

        Path noTowerField = Files.createDirectories(tmp.resolve("notower"));
        Files.writeString(noTowerField.resolve("config.json"), "{}");
        e = assertThrows(CheckpointException.class, () -> ModelFiles.resolve(noTowerField.toString(), tmp, null));
        assertTrue(e.getMessage().contains("'mm_vision_tower'"), e.getMessage());

        Path missingTower = Files.createDirectories(tmp.resolve("missingtower"));
        writeConfig(missingTower, "Org/Missing-Tower");
        e = assertThrows(CheckpointException.class, () -> ModelFiles.resolve(missingTower.toString(), tmp, null));
        assertTrue(e.getMessage().contains("Org/Missing-Tower")
                && e.getMessage().contains(tmp.resolve("models--Org--Missing-Tower").toString()), e.getMessage());

        Path towerWithoutPreprocessor = Files.createDirectories(tmp.resolve("bare/tower"));
        Files.copy(Fixtures.tinyModel().resolve("vision_tower/config.json"), towerWithoutPreprocessor.resolve("config.json"));
        Path llm = Files.createDirectories(tmp.resolve("bare/llm"));
        writeConfig(llm, "../tower");
        e = assertThrows(CheckpointException.class, () -> ModelFiles.resolve(llm.toString(), tmp, null));
        assertTrue(e.getMessage().contains(towerWithoutPreprocessor.resolve("preprocessor_config.json").toString()),
                e.getMessage());
    }

    private static Path copyTinyWeights(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : new String[] {"model.safetensors.index.json", "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors"}) {
            Files.copy(Fixtures.tinyModel().resolve(f), dir.resolve(f));
        }
        return dir;
    }

    private static void writeConfig(Path llmDir, String tower) throws IOException {
        String config = Files.readString(Fixtures.tinyModel().resolve("config.json"))
                .replace("\"./vision_tower\"", "\"" + tower + "\"");
        Files.writeString(llmDir.resolve("config.json"), config);
    }

    /** A safetensors file holding one F32 value 1.0 per key. */
    private static void writeSafetensors(Path file, String... keys) throws IOException {
        StringBuilder header = new StringBuilder("{");
        for (int i = 0; i < keys.length; i++) {
            header.append(i == 0 ? "" : ",").append('"').append(keys[i]).append("\":{\"dtype\":\"F32\",\"shape\":[1],")
                    .append("\"data_offsets\":[").append(4 * i).append(',').append(4 * i + 4).append("]}");
        }
        byte[] json = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + 4 * keys.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        for (int i = 0; i < keys.length; i++) {
            b.putFloat(1f);
        }
        Files.write(file, b.array());
    }
}
