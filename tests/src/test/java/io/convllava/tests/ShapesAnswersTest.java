package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bundled demo model answers every sample exactly like the reference implementation, boxes included. */
class ShapesAnswersTest {

    @Test
    void cliReproducesEveryReferenceAnswer() throws IOException {
        Path model = Fixtures.shapesModel();
        JsonArray samples = JsonParser.parseString(Files.readString(model.resolve("samples.json")))
                .getAsJsonObject().getAsJsonArray("samples");
        assertEquals(10, samples.size());
        for (JsonElement e : samples) {
            JsonObject s = e.getAsJsonObject();
            JsonObject out = CliRun.of("generate", "--model", model.toString(),
                    "--image", model.resolve(s.get("image").getAsString()).toString(),
                    "--prompt", s.get("question").getAsString(), "--max-new-tokens", "40", "--json").json();
            String expected = s.get("reference_answer").getAsString();
            assertEquals(expected, out.get("text").getAsString(), s.get("image").getAsString());
            if (s.get("kind").getAsString().equals("ground")) {
                assertTrue(out.has("boxes"), "grounding answer without a parsed box: " + out);
                JsonArray normalized = out.getAsJsonArray("boxes").get(0).getAsJsonObject().getAsJsonArray("normalized");
                String[] numbers = expected.replaceAll("[\\[\\]\\s]", "").split(",");
                for (int i = 0; i < 4; i++) {
                    assertEquals(Double.parseDouble(numbers[i]), normalized.get(i).getAsDouble(), 1e-9);
                }
            }
        }
    }
}
