package io.convllava.tests;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.cli.LocalCluster;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official {@code openai} npm package as the client: a cluster of the demo model started as {@code ./convllava
 * local} starts it (every node its own JVM), its coordinator with {@code --http-port} and {@code --token-file}, asked
 * the counting sample by {@code clients/openai-node/ask.mjs} (installed with {@code npm ci} from its lock file) with
 * the image as a data URL, whole and streamed: both answers are the sample's reference answer. A wrong token is
 * refused with 401, which the package reports as such.
 */
class OpenAiNodeClientProcessTest {
    private static final String TOKEN = "openai-node-test-token";

    @Test
    void theOpenAiPackageGetsTheCountingSamplesReferenceAnswer(@TempDir Path logs) throws Exception {
        Path client = installClient();
        Path model = Fixtures.shapesModel();
        Path tokens = logs.resolve("tokens");
        Files.writeString(tokens, TOKEN + "\n");
        LocalCluster.Spec spec = new LocalCluster.Spec(model.toString(), null, null, "cpu", 1,
                List.of("auto", "auto"), 0, logs, "-Xmx512m",
                List.of("--http-port", "0", "--token-file", tokens.toString()));
        String question = "How many shapes are in the image?";
        String image = model.resolve("samples/sample-count-0.png").toString();
        String reference = JsonParser.parseString(Files.readString(model.resolve("samples.json"))).getAsJsonObject()
                .getAsJsonArray("samples").asList().stream().map(e -> e.getAsJsonObject())
                .filter(s -> s.get("image").getAsString().equals("samples/sample-count-0.png")).findFirst()
                .orElseThrow().get("reference_answer").getAsString();
        try (LocalCluster cluster = new LocalCluster(spec, TestCluster.QUIET)) {
            cluster.start(Duration.ofMinutes(3));
            // port 0: the coordinator bound a free one and named it in its ready line
            String baseUrl = "http://127.0.0.1:" + cluster.httpPort().orElseThrow() + "/v1";

            Run asked = node(client, TOKEN, "ask.mjs", "--base-url", baseUrl, "--image", image, "--max-tokens", "40",
                    "--json", question);
            assertEquals(0, asked.exitCode, asked.toString());
            String[] lines = asked.out.strip().split("\n");
            JsonObject answers = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
            assertEquals("convllava-shapes", answers.get("model").getAsString());
            assertEquals(reference, answers.get("answer").getAsString(), asked.toString());
            assertEquals("stop", answers.get("finish_reason").getAsString());
            assertEquals(reference, answers.get("streamed").getAsString(), asked.toString());
            assertEquals("stop", answers.get("streamed_finish_reason").getAsString());
            assertEquals(answers.getAsJsonObject("usage").get("completion_tokens"),
                    answers.getAsJsonObject("streamed_usage").get("completion_tokens"));

            Run refused = node(client, "a-wrong-token", "ask.mjs", "--base-url", baseUrl, "--image", image, question);
            assertEquals(1, refused.exitCode, refused.toString());
            assertTrue(refused.err.contains("error: HTTP 401"), refused.toString());
            assertTrue(refused.err.contains("the bearer token is not accepted"), refused.toString());
        }
    }

    /** The example client, copied under target/ and installed there with {@code npm ci} (its lock file). */
    private static Path installClient() throws Exception {
        Path source = Fixtures.projectRoot().resolve("clients/openai-node");
        Path target = Fixtures.projectRoot().resolve("tests/target/openai-node");
        Files.createDirectories(target);
        for (String file : List.of("package.json", "package-lock.json", "ask.mjs")) {
            Files.copy(source.resolve(file), target.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Run install = run(target, Map.of(), "npm", "ci", "--no-audit", "--no-fund");
        assertEquals(0, install.exitCode, "npm ci of clients/openai-node: " + install);
        return target;
    }

    private static Run node(Path dir, String token, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("node"));
        command.addAll(List.of(args));
        return run(dir, Map.of("OPENAI_API_KEY", token), command.toArray(String[]::new));
    }

    private static Run run(Path dir, Map<String, String> env, String... command) throws Exception {
        Path out = Files.createTempFile("node-out", ".txt");
        Path err = Files.createTempFile("node-err", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            builder.environment().putAll(env);
            Process process = builder.start();
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish within 5 minutes");
            }
            return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** What a command did. */
    private record Run(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }
}
