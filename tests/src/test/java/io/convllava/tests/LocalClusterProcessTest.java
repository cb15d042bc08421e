package io.convllava.tests;

import com.google.gson.JsonObject;
import io.convllava.common.testing.Fixtures;
import io.convllava.cli.LocalCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's multi-process paths, as a user runs them: {@code local} (ZooKeeper + every node in its own JVM)
 * answered through {@code generate --target}, and {@code demo} end to end.
 */
class LocalClusterProcessTest {

    @Test
    void localClusterAnswersLikeTheReference(@TempDir Path logs) throws Exception {
        Reference ref = new Reference("tiny-convllava");
        LocalCluster.Spec spec = new LocalCluster.Spec(Fixtures.tinyModel().toString(), null, null, "cpu", 1,
                java.util.List.of("auto", "auto"), 0, logs, "-Xmx512m");
        try (LocalCluster cluster = new LocalCluster(spec, TestCluster.QUIET)) {
            String endpoint = cluster.start(java.time.Duration.ofMinutes(3));
            JsonObject out = CliRun.of("generate", "--target", endpoint, "--image", ref.image().toString(),
                    "--prompt", ref.question(0), "--max-new-tokens", "12", "--json").json();
            assertArrayEquals(Reference.ints(ref.testCase(0).getAsJsonArray("input_ids")),
                    Reference.ints(out.getAsJsonArray("input_ids")));
            ref.assertGreedyPrefix(0, Reference.ints(out.getAsJsonArray("tokens")));

            CliRun status = CliRun.of("status", "--target", endpoint);
            assertEquals(0, status.exitCode, status.err);
            assertTrue(status.out.contains("llm-0") && status.out.contains("llm-1") && status.out.contains("vision-0"),
                    status.out);
        }
    }

    @Test
    void demoAnswersDrawsTheBoxAndStops(@TempDir Path out) throws Exception {
        CliRun demo = CliRun.of("demo", "--model", Fixtures.shapesModel().toString(), "--out", out.toString());
        assertEquals(0, demo.exitCode, demo.out + demo.err);
        assertTrue(demo.out.contains("A: Three."), demo.out); // samples.json: sample-count-0 -> "Three."
        assertTrue(demo.out.contains("[0.69, 0.40, 0.90, 0.66]"), demo.out);
        assertTrue(Files.size(out.resolve("sample-ground-1-box.png")) > 0);
        assertTrue(demo.out.contains("demo: stopping the cluster"), demo.out);
    }
}
