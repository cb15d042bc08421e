package io.convllava.tests;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.testing.Fixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The bundled demo model as {@link FakeHub} repositories, laid out like the released ConvLLaVA checkpoints: the
 * model, whose config names its vision tower by hub id, and the tower (its config and preprocessor config) as a gated
 * repository of its own.
 */
final class ShapesOnTheHub {
    private ShapesOnTheHub() {
    }

    /** models/convllava-shapes without vision_tower/, its config's mm_vision_tower naming {@code towerId}. */
    static FakeRepo model(String id, String towerId) {
        Map<String, byte[]> files = new LinkedHashMap<>(FakeRepo.filesOf(Fixtures.shapesModel()));
        files.keySet().removeIf(p -> p.startsWith("vision_tower/"));
        String config = new String(files.get("config.json"), StandardCharsets.UTF_8);
        String named = config.replace("\"mm_vision_tower\": \"./vision_tower\"", "\"mm_vision_tower\": \"" + towerId
                + "\"");
        assertNotEquals(config, named, "the demo model's config no longer names ./vision_tower");
        files.put("config.json", named.getBytes(StandardCharsets.UTF_8));
        return FakeRepo.of(id, files, false);
    }

    /** models/convllava-shapes/vision_tower/ as a gated repository. */
    static FakeRepo tower(String id) {
        Map<String, byte[]> files = FakeRepo.filesOf(Fixtures.shapesModel().resolve("vision_tower"));
        assertEquals(2, files.size(), "config.json and preprocessor_config.json expected: " + files.keySet());
        return FakeRepo.of(id, files, true);
    }

    /** The first counting sample of samples.json: image, question and the reference implementation's answer. */
    static JsonObject countingSample() {
        try {
            for (JsonElement e : JsonParser.parseString(Files.readString(Fixtures.shapesModel()
                    .resolve("samples.json"))).getAsJsonObject().getAsJsonArray("samples")) {
                if (e.getAsJsonObject().get("kind").getAsString().equals("count")) {
                    return e.getAsJsonObject();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("samples.json has no counting sample");
    }
}
