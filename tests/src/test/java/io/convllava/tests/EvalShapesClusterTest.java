package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code convllava eval} scores the demo model through a real cluster on generated shapes scenes: it counts the shapes
 * of every scene right, as its reference evaluation says it does (samples.json: 100% on 128 scenes), and a second run
 * asks the cluster nothing and scores the same.
 */
class EvalShapesClusterTest {
    private static final int SCENES = 16;

    @TempDir
    Path dir;

    @Test
    void theDemoModelCountsEveryGeneratedSceneRightThroughACluster() throws Exception {
        Path model = Fixtures.shapesModel();
        double referenceCount = JsonParser.parseString(Files.readString(model.resolve("samples.json")))
                .getAsJsonObject().getAsJsonObject("eval_greedy_accuracy_128_scenes_per_kind").get("count")
                .getAsDouble();
        CliRun generated = CliRun.of("eval", "generate-shapes", "--out", dir.toString(), "--scenes",
                Integer.toString(SCENES));
        assertEquals(0, generated.exitCode, generated.err);
        ModelFiles files = ModelFiles.resolve(model.toString(), null, null);
        try (TestingServer zookeeper = new TestingServer(true);
             TestCluster cluster = new TestCluster(zookeeper, files, "convllava-shapes")) {
            cluster.startTwoStagePipeline();
            String[] eval = {"eval", "--task", "textvqa", "--data", dir.resolve("textvqa.json").toString(), "--images",
                    dir.resolve("images").toString(), "--target", cluster.coordinatorAddress(), "--prompt-style",
                    "bare", "--out", dir.resolve("out").toString(), "--json"};
            CliRun first = CliRun.of(eval);
            assertEquals(0, first.exitCode, first.err);
            JsonObject table = JsonParser.parseString(first.out).getAsJsonObject();
            JsonObject count = row(table, "count");
            assertEquals(SCENES, count.get("questions").getAsInt());
            assertEquals(100 * referenceCount, count.get("accuracy").getAsDouble(), 1e-9,
                    "counting accuracy, as the model's reference evaluation");

            // the answers are the training answers' form ("Three."), one per question
            Map<String, String> answers = new HashMap<>();
            for (String line : Files.readAllLines(dir.resolve("out/predictions.jsonl"))) {
                JsonObject p = JsonParser.parseString(line).getAsJsonObject();
                answers.put(p.get("id").getAsString(), p.get("text").getAsString());
            }
            assertEquals(3 * SCENES, answers.size());
            JsonArray data = JsonParser.parseString(Files.readString(dir.resolve("textvqa.json"))).getAsJsonObject()
                    .getAsJsonArray("data");
            for (JsonElement e : data) {
                JsonObject q = e.getAsJsonObject();
                if (q.get("category").getAsString().equals("count")) {
                    String truth = q.getAsJsonArray("answers").get(0).getAsString();
                    assertEquals(Character.toUpperCase(truth.charAt(0)) + truth.substring(1) + ".",
                            answers.get(q.get("question_id").getAsString()), q.get("image_id").getAsString());
                }
            }

            CliRun second = CliRun.of(eval);
            assertEquals(0, second.exitCode, second.err);
            assertTrue(second.err.contains(3 * SCENES + "/" + 3 * SCENES + " answered (" + 3 * SCENES
                    + " from an earlier run)"), second.err);
            assertEquals(table, JsonParser.parseString(second.out).getAsJsonObject());
        }
    }

    private static JsonObject row(JsonObject table, String name) {
        for (JsonElement row : table.getAsJsonArray("rows")) {
            if (row.getAsJsonObject().get("name").getAsString().equals(name)) {
                return row.getAsJsonObject();
            }
        }
        throw new AssertionError("no row " + name + " in " + table);
    }
}
