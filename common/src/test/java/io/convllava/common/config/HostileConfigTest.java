package io.convllava.common.config;

import io.convllava.common.checkpoint.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Crafted config files: each is refused with a CheckpointException naming the file and the field. */
class HostileConfigTest {
    @TempDir
    Path tmp;

    private Path json(String name, String content) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    private static void assertRefused(Path file, Executable load, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, load);
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
        }
    }

    @Test
    void oversizedConfigIsRefusedBeforeItIsRead() throws Exception {
        Path p = json("config.json", "{}");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(JsonFields.MAX_CONFIG_BYTES + 1); // sparse: nothing is written
        }
        assertRefused(p, () -> ConfigLoader.loadLlm(p), "more than the limit of " + JsonFields.MAX_CONFIG_BYTES);
    }

    @Test
    void deeplyNestedConfigIsRefusedWithoutOverflowingTheStack() throws Exception {
        Path p = json("config.json", "{\"depths\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}");
        assertRefused(p, () -> ConfigLoader.loadVision(p), "cannot parse config");
    }

    @Test
    void invalidUtf8IsRefused() throws Exception {
        Path p = tmp.resolve("config.json");
        Files.write(p, new byte[] {'{', '"', (byte) 0xff, (byte) 0xfe, '"', ':', '1', '}'});
        assertRefused(p, () -> ConfigLoader.loadPreprocessor(p), "cannot read config");
    }

    @Test
    void ropeFieldsOfTheWrongTypeAreNamed() throws Exception {
        // these used to escape as UnsupportedOperationException / NumberFormatException
        Path scaling = json("scaling.json", "{\"rope_scaling\": {\"type\": {\"nested\": 1}}}");
        assertRefused(scaling, () -> ConfigLoader.loadLlm(scaling), "'rope_scaling.type' must be a string");
        Path theta = json("theta.json", "{\"rope_parameters\": {\"rope_theta\": \"fast\"}}");
        assertRefused(theta, () -> ConfigLoader.loadLlm(theta), "'rope_parameters.rope_theta' must be a number");
        Path array = json("array.json", "{\"rope_parameters\": {\"rope_theta\": [1, 2]}}");
        assertRefused(array, () -> ConfigLoader.loadLlm(array), "'rope_parameters.rope_theta' must be a number");
    }

    @Test
    void nonFiniteAndHugeNumbersAreRefused() throws Exception {
        Path nan = json("nan.json", "{\"rms_norm_eps\": NaN}");
        assertRefused(nan, () -> ConfigLoader.loadLlm(nan), "'rms_norm_eps' must be a finite number");
        Path big = json("big.json", "{\"hidden_size\": 1e400}");
        assertRefused(big, () -> ConfigLoader.loadLlm(big), "'hidden_size' must be an integer");
        Path wide = json("wide.json", "{\"vocab_size\": 4294967296}");
        assertRefused(wide, () -> ConfigLoader.loadLlm(wide), "'vocab_size' must be an integer");
    }

    @Test
    void wronglyShapedSizesAreNamed() throws Exception {
        Path size = json("size.json", "{\"size\": [224]}");
        assertRefused(size, () -> ConfigLoader.loadPreprocessor(size), "'size'");
        Path crop = json("crop.json", "{\"crop_size\": {\"height\": \"x\", \"width\": 2}}");
        assertRefused(crop, () -> ConfigLoader.loadPreprocessor(crop), "'crop_size.height' must be an integer");
        Path mean = json("mean.json", "{\"image_mean\": [0.5, {}, 0.5]}");
        assertRefused(mean, () -> ConfigLoader.loadPreprocessor(mean), "'image_mean'");
    }
}
