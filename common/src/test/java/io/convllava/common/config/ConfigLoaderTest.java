package io.convllava.common.config;

import io.convllava.common.checkpoint.CheckpointException;
import io.convllava.common.model.HubCache;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {
    @TempDir
    Path tmp;

    private Path json(String name, String content) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    @Test
    void tinyLlmConfig() {
        LlmConfig c = ConfigLoader.loadLlm(Fixtures.tinyModel().resolve("config.json"));
        assertEquals(32000, c.vocabSize());
        assertEquals(64, c.hiddenSize());
        assertEquals(176, c.intermediateSize());
        assertEquals(4, c.numHiddenLayers());
        assertEquals(4, c.numAttentionHeads());
        assertEquals(4, c.numKeyValueHeads());
        assertEquals(16, c.headDim());
        assertEquals(4096, c.maxPositionEmbeddings());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(1, c.bosTokenId());
        assertEquals(2, c.eosTokenId());
        assertEquals(0, c.padTokenId());
        assertEquals("bfloat16", c.torchDtype());
        assertEquals("./vision_tower", c.mmVisionTower());
        assertEquals(96, c.mmHiddenSize());
        assertEquals("mlp2x_gelu", c.mmProjectorType());
        assertEquals(-1, c.mmVisionSelectLayer());
        assertEquals("pad", c.imageAspectRatio());
        assertFalse(c.mmUseImStartEnd());
        assertEquals(2048, c.tokenizerModelMaxLength());
    }

    @Test
    void holdoutLlmConfigHasGroupedQueryAttentionAndAHubIdTower() {
        Path dir = HubCache.snapshot(Fixtures.holdoutCache(), "ConvLLaVA/ConvLLaVA-sft-384");
        LlmConfig c = ConfigLoader.loadLlm(dir.resolve("config.json"));
        assertEquals(96, c.hiddenSize());
        assertEquals(6, c.numHiddenLayers());
        assertEquals(6, c.numAttentionHeads());
        assertEquals(2, c.numKeyValueHeads());
        assertEquals("ConvLLaVA/ConvLLaVA-ConvNeXt-384", c.mmVisionTower());
        assertEquals(160, c.mmHiddenSize());
    }

    @Test
    void absentLlmFieldsTakeTheHuggingFaceDefaults() throws Exception {
        LlmConfig c = ConfigLoader.loadLlm(json("config.json",
                "{\"hidden_size\": 128, \"num_attention_heads\": 8, \"eos_token_id\": [2, 32000]}"));
        assertEquals(8, c.numKeyValueHeads());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(32000, c.vocabSize());
        assertEquals(11008, c.intermediateSize());
        assertEquals(32, c.numHiddenLayers());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertEquals(2048, c.tokenizerModelMaxLength());
        assertEquals(2, c.eosTokenId());
        assertEquals(-1, c.padTokenId());
        assertNull(c.mmVisionTower());
        assertEquals("linear", c.mmProjectorType());
        assertEquals("square", c.imageAspectRatio());
    }

    @Test
    void transformers5RopeParametersAreRead() throws Exception {
        LlmConfig c = ConfigLoader.loadLlm(json("config.json",
                "{\"rope_parameters\": {\"rope_theta\": 500000.0, \"rope_type\": \"default\"}}"));
        assertEquals(500000.0, c.ropeTheta());
    }

    @Test
    void badLlmFieldsAreNamed() throws Exception {
        Path p = json("config.json", "{\"num_attention_heads\": 8, \"num_key_value_heads\": 3}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConfigLoader.loadLlm(p));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("'num_key_value_heads'"),
                e.getMessage());
        Path q = json("config2.json", "{\"mm_vision_tower\": \"x/y\"}");
        e = assertThrows(CheckpointException.class, () -> ConfigLoader.loadLlm(q));
        assertTrue(e.getMessage().contains("'mm_hidden_size'"), e.getMessage());
        Path r = json("config3.json", "{\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}}");
        e = assertThrows(CheckpointException.class, () -> ConfigLoader.loadLlm(r));
        assertTrue(e.getMessage().contains("'rope_scaling'") && e.getMessage().contains("linear"), e.getMessage());
        Path s = json("config4.json", "{\"hidden_size\": \"big\"}");
        e = assertThrows(CheckpointException.class, () -> ConfigLoader.loadLlm(s));
        assertTrue(e.getMessage().contains("'hidden_size'"), e.getMessage());
    }

    @Test
    void missingConfigFileIsNamed() {
        Path p = tmp.resolve("config.json");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConfigLoader.loadLlm(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test
    void visionConfigsHaveOneStagePerDepth() {
        VisionConfig tiny = ConfigLoader.loadVision(Fixtures.tinyModel().resolve("vision_tower/config.json"));
        assertArrayEquals(new int[] {1, 1, 2, 1, 2}, tiny.depths());
        assertArrayEquals(new int[] {16, 32, 48, 64, 96}, tiny.hiddenSizes());
        assertEquals(5, tiny.numStages());
        assertEquals(96, tiny.outputChannels());
        assertEquals(64, tiny.downsampleFactor());
        assertEquals(3, tiny.numChannels());
        assertEquals(4, tiny.patchSize());
        assertEquals("gelu", tiny.hiddenAct());
        assertEquals(256, tiny.imageSize());
        Path tower = HubCache.snapshot(Fixtures.holdoutCache(), "ConvLLaVA/ConvLLaVA-ConvNeXt-384");
        VisionConfig holdout = ConfigLoader.loadVision(tower.resolve("config.json"));
        assertArrayEquals(new int[] {1, 2, 1, 1, 1}, holdout.depths());
        assertArrayEquals(new int[] {24, 48, 96, 128, 160}, holdout.hiddenSizes());
        assertEquals(384, holdout.imageSize());
    }

    @Test
    void visionDefaultsAndMismatchedStageLists() throws Exception {
        VisionConfig d = ConfigLoader.loadVision(json("v.json", "{\"model_type\": \"convnext\"}"));
        assertArrayEquals(new int[] {3, 3, 9, 3}, d.depths());
        assertArrayEquals(new int[] {96, 192, 384, 768}, d.hiddenSizes());
        Path bad = json("bad.json", "{\"depths\": [1, 1], \"hidden_sizes\": [8, 16, 32]}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConfigLoader.loadVision(bad));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("'depths'"), e.getMessage());
        Path clip = json("clip.json", "{\"model_type\": \"clip_vision_model\"}");
        e = assertThrows(CheckpointException.class, () -> ConfigLoader.loadVision(clip));
        assertTrue(e.getMessage().contains("'model_type'"), e.getMessage());
    }

    @Test
    void fixturePreprocessorConfig() {
        PreprocessorConfig p = ConfigLoader.loadPreprocessor(
                Fixtures.tinyModel().resolve("vision_tower/preprocessor_config.json"));
        assertEquals(256, p.shortestEdge());
        assertEquals(256, p.cropHeight());
        assertEquals(256, p.cropWidth());
        assertEquals(3, p.resample());
        assertEquals(1 / 255.0, p.rescaleFactor(), 1e-15);
        assertArrayEquals(new float[] {0.48145466f, 0.4578275f, 0.40821073f}, p.imageMean());
        assertArrayEquals(new float[] {0.26862954f, 0.26130258f, 0.27577711f}, p.imageStd());
        assertTrue(p.doResize() && p.doCenterCrop() && p.doRescale() && p.doNormalize() && p.doConvertRgb());
    }

    @Test
    void preprocessorSizeAndCropSizeForms() throws Exception {
        PreprocessorConfig asInts = ConfigLoader.loadPreprocessor(json("a.json",
                "{\"size\": 336, \"crop_size\": 320, \"do_center_crop\": false}"));
        assertEquals(336, asInts.shortestEdge());
        assertEquals(320, asInts.cropHeight());
        assertEquals(320, asInts.cropWidth());
        assertFalse(asInts.doCenterCrop());
        PreprocessorConfig asBox = ConfigLoader.loadPreprocessor(json("b.json",
                "{\"size\": {\"height\": 512, \"width\": 512}, \"crop_size\": {\"height\": 500, \"width\": 480}}"));
        assertEquals(512, asBox.shortestEdge());
        assertEquals(500, asBox.cropHeight());
        assertEquals(480, asBox.cropWidth());
        PreprocessorConfig defaults = ConfigLoader.loadPreprocessor(json("c.json", "{}"));
        assertEquals(224, defaults.shortestEdge());
        assertEquals(224, defaults.cropWidth());
        assertEquals(3, defaults.resample());
        Path bad = json("d.json", "{\"size\": {\"height\": 512, \"width\": 256}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConfigLoader.loadPreprocessor(bad));
        assertTrue(e.getMessage().contains("'size'") && e.getMessage().contains(bad.toString()), e.getMessage());
    }
}
