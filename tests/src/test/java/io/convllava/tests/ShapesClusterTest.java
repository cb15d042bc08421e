package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.testing.Fixtures;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.GenerationResult;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.generate.TokenListener;
import io.convllava.cli.local.LocalEngine;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;
import io.convllava.proto.v1.BoundingBox;
import io.convllava.proto.v1.Final;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The demo model served by a cluster gives every reference answer of samples.json, and grounding boxes like the
 * in-process CLI's, mapped to the original (non-square) image's pixels with the size the vision node reports.
 */
class ShapesClusterTest {

    @Test
    void everyReferenceAnswerAndTheBoxesMatchTheInProcessCli() throws Exception {
        Path model = Fixtures.shapesModel();
        ModelFiles files = ModelFiles.resolve(model.toString(), null, null);
        JsonArray samples = JsonParser.parseString(Files.readString(model.resolve("samples.json")))
                .getAsJsonObject().getAsJsonArray("samples");
        try (TestingServer zookeeper = new TestingServer(true);
             TestCluster cluster = new TestCluster(zookeeper, files, "convllava-shapes")) {
            cluster.startTwoStagePipeline();
            int grounding = 0;
            String groundQuestion = null;
            for (JsonElement e : samples) {
                JsonObject s = e.getAsJsonObject();
                Path image = model.resolve(s.get("image").getAsString());
                String question = s.get("question").getAsString();
                Final answer = Streams.collect(cluster.client().generate(
                        Streams.request(question, Files.readAllBytes(image), 40, false))).last();
                assertEquals(s.get("reference_answer").getAsString(), answer.getText(), image.toString());
                if (!s.get("kind").getAsString().equals("ground")) {
                    continue;
                }
                grounding++;
                groundQuestion = question;
                JsonObject local = CliRun.of("generate", "--model", model.toString(), "--image", image.toString(),
                        "--prompt", question, "--max-new-tokens", "40", "--json").json();
                JsonArray pixels = local.getAsJsonArray("boxes").get(0).getAsJsonObject().getAsJsonArray("pixels");
                BoundingBox box = answer.getBoxes(0);
                float[] got = {box.getX1(), box.getY1(), box.getX2(), box.getY2()};
                for (int i = 0; i < 4; i++) {
                    assertEquals(pixels.get(i).getAsDouble(), got[i], 1e-3, image + " box coordinate " + i);
                }
            }
            assertEquals(2, grounding, "the demo model has two grounding samples");

            // a wide image: the box must come back in its pixels, shifted by the padding above and below
            byte[] wide = widened(model.resolve("samples/sample-ground-0.png"));
            Final answer = Streams.collect(cluster.client().generate(Streams.request(groundQuestion, wide, 40, false)))
                    .last();
            GenerationResult local;
            try (LocalEngine engine = LocalEngine.load(files, "cpu", null)) {
                local = engine.generator().generate(new GenerationRequest(List.of(ChatMessage.user(groundQuestion, 1)),
                        List.of(ImageInput.ofBytes(wide)), ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, 40,
                        List.of(), false, false), TokenListener.NONE);
            }
            assertEquals(local.text(), answer.getText());
            assertEquals(1, local.boxes().size(), "the demo model should answer a box: " + local.text());
            io.convllava.coordinator.grounding.BoundingBox expected = local.boxes().get(0);
            BoundingBox box = answer.getBoxes(0);
            assertEquals(expected.x1(), box.getX1(), 1e-3);
            assertEquals(expected.y1(), box.getY1(), 1e-3);
            assertEquals(expected.x2(), box.getX2(), 1e-3);
            assertEquals(expected.y2(), box.getY2(), 1e-3);
        }
    }

    /** The image centred on a canvas 1.5 times as wide, filled with the preprocessor's padding colour. */
    private static byte[] widened(Path png) throws Exception {
        BufferedImage image = ImageIO.read(png.toFile());
        BufferedImage wide = new BufferedImage(image.getWidth() * 3 / 2, image.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = wide.createGraphics();
        g.setColor(new Color(122, 116, 104));
        g.fillRect(0, 0, wide.getWidth(), wide.getHeight());
        g.drawImage(image, (wide.getWidth() - image.getWidth()) / 2, 0, null);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(wide, "png", out);
        return out.toByteArray();
    }
}
