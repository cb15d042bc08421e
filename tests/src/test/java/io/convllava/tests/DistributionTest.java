package io.convllava.tests;

import com.google.gson.JsonObject;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The distribution archive as an operator installs it: unpacked with {@code tar}, its {@code bin/convllava} answers
 * a question about a bundled sample in a process of its own. The archive is built in the package phase
 * ({@code mvn verify}).
 */
class DistributionTest {

    @Test
    void unpackedArchiveAnswersWithTheBundledModel(@TempDir Path dir) throws Exception {
        Run tar = Run.of(dir, "tar", "-xzf", archive().toString());
        assertEquals(0, tar.exitCode, tar.err);
        Path home = single(dir, "convllava-*");

        Path launcher = home.resolve("bin/convllava");
        assertTrue(Files.isRegularFile(launcher) && Files.isExecutable(launcher), launcher + " is not executable");
        assertTrue(Files.isRegularFile(home.resolve("conf/convllava.properties")), "conf/convllava.properties");
        single(home.resolve("lib"), "cli-*.jar");

        Path model = home.resolve("models/convllava-shapes");
        Run generate = Run.of(dir, launcher.toString(), "generate", "--model", model.toString(),
                "--image", model.resolve("samples/sample-count-0.png").toString(),
                "--prompt", "How many shapes are in the image?", "--max-new-tokens", "20");
        assertEquals(0, generate.exitCode, generate.err);
        // the reference answer to this sample (models/convllava-shapes/samples.json)
        assertTrue(generate.out.contains("Three."), generate.out + generate.err);
    }

    /**
     * The unpacked launcher downloads from the Hub that {@code HF_ENDPOINT} names, with the token of {@code HF_TOKEN},
     * into {@code HF_HOME/hub}; then it answers by the model's hub id, found there without {@code --hf-cache}.
     */
    @Test
    void downloadFollowsTheHuggingFaceEnvironment(@TempDir Path dir) throws Exception {
        Run tar = Run.of(dir, "tar", "-xzf", archive().toString());
        assertEquals(0, tar.exitCode, tar.err);
        Path launcher = single(dir, "convllava-*").resolve("bin/convllava");
        String token = "hf_distribution_test";
        try (FakeHub hub = new FakeHub(token)) {
            hub.add(ShapesOnTheHub.model("convllava-test/shapes", "convllava-test/shapes-tower"));
            hub.add(ShapesOnTheHub.tower("convllava-test/shapes-tower"));
            Path hfHome = dir.resolve("hf-home");
            Map<String, String> env = Map.of("HF_HOME", hfHome.toString(), "HF_ENDPOINT", hub.endpoint().toString(),
                    "HF_TOKEN", token);

            Run download = Run.of(dir, env, launcher.toString(), "download", "convllava-test/shapes");
            assertEquals(0, download.exitCode, download.err);
            assertTrue(Files.isRegularFile(hfHome.resolve("hub/models--convllava-test--shapes-tower/refs/main")),
                    download.out + download.err);

            JsonObject sample = ShapesOnTheHub.countingSample();
            Run generate = Run.of(dir, env, launcher.toString(), "generate", "--model", "convllava-test/shapes",
                    "--image", Fixtures.shapesModel().resolve(sample.get("image").getAsString()).toString(),
                    "--prompt", sample.get("question").getAsString(), "--max-new-tokens", "20");
            assertEquals(0, generate.exitCode, generate.err);
            assertTrue(generate.out.contains(sample.get("reference_answer").getAsString()),
                    generate.out + generate.err);
        }
    }

    /** {@code deploy/target/convllava-<version>.tar.gz}. */
    private static Path archive() throws IOException {
        Path target = Fixtures.projectRoot().resolve("deploy/target");
        assertTrue(Files.isDirectory(target), target + " is missing: the archive is built by mvn verify (or package)");
        return single(target, "convllava-*.tar.gz");
    }

    private static Path single(Path dir, String glob) throws IOException {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, glob)) {
            entries.forEach(found::add);
        }
        assertEquals(1, found.size(), () -> "expected one " + glob + " in " + dir + ", found " + found);
        return found.get(0);
    }

    /** A finished process: exit code and what it printed. */
    private record Run(int exitCode, String out, String err) {

        /**
         * Runs {@code command} in {@code dir} with this JVM's Java and waits for it. DJL_CACHE_DIR comes from the
         * build's environment, so the checkout's libtorch is used instead of being unpacked again.
         */
        static Run of(Path dir, String... command) throws IOException, InterruptedException {
            return of(dir, Map.of(), command);
        }

        /** The same, with {@code extraEnv}; the developer's own HF_* variables are left out. */
        static Run of(Path dir, Map<String, String> extraEnv, String... command)
                throws IOException, InterruptedException {
            Path out = dir.resolve("stdout.txt");
            Path err = dir.resolve("stderr.txt");
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            Map<String, String> env = builder.environment();
            env.keySet().removeIf(name -> name.startsWith("CONVLLAVA_")); // a developer's own flag defaults
            env.keySet().removeIf(name -> name.startsWith("HF_"));
            env.putAll(extraEnv);
            env.put("JAVA_HOME", System.getProperty("java.home"));
            env.put("CONVLLAVA_JAVA_OPTS", "-Xmx1g");
            Process p = builder.start();
            if (!p.waitFor(3, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", command) + " did not finish within 3 minutes:\n"
                        + Files.readString(err));
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        }
    }
}
