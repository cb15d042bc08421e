package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.proto.v1.BoundingBox;
import io.convllava.proto.v1.Final;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The demo model served by a cluster answers the grounding samples like the in-process CLI, boxes mapped to the
 * original (non-square) image's pixels with the size the vision node reports.
 */
class ShapesClusterTest {

    @Test
    void groundingAnswersAndBoxesMatchTheInProcessCli() throws Exception {
        Path model = Fixtures.shapesModel();
        ModelFiles files = ModelFiles.resolve(model.toString(), null, null);
        JsonArray samples = JsonParser.parseString(Files.readString(model.resolve("samples.json")))
                .getAsJsonObject().getAsJsonArray("samples");
        try (TestingServer zookeeper = new TestingServer(true);
             TestCluster cluster = new TestCluster(zookeeper, files, "convllava-shapes")) {
            cluster.coordinator(ServedModel.load("convllava-shapes", files));
            cluster.vision();
            cluster.llm("0-2");
            cluster.llm("2-4");
            cluster.awaitPipelines(1);
            int grounding = 0;
            for (JsonElement e : samples) {
                JsonObject s = e.getAsJsonObject();
                if (!s.get("kind").getAsString().equals("ground")) {
                    continue;
                }
                grounding++;
                Path image = model.resolve(s.get("image").getAsString());
                String question = s.get("question").getAsString();
                Final answer = Streams.collect(cluster.client().generate(
                        Streams.request(question, Files.readAllBytes(image), 40, false))).last();
                JsonObject local = CliRun.of("generate", "--model", model.toString(), "--image", image.toString(),
                        "--prompt", question, "--max-new-tokens", "40", "--json").json();
                assertEquals(s.get("reference_answer").getAsString(), answer.getText(), image.toString());
                JsonArray pixels = local.getAsJsonArray("boxes").get(0).getAsJsonObject().getAsJsonArray("pixels");
                BoundingBox box = answer.getBoxes(0);
                float[] got = {box.getX1(), box.getY1(), box.getX2(), box.getY2()};
                for (int i = 0; i < 4; i++) {
                    assertEquals(pixels.get(i).getAsDouble(), got[i], 1e-3, image + " box coordinate " + i);
                }
            }
            assertEquals(2, grounding, "the demo model has two grounding samples");
        }
    }
}
