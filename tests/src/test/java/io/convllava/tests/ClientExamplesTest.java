package io.convllava.tests;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.cli.certs.DevelopmentCertificates;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.BearerTokens;
import io.convllava.common.transport.TlsConfig;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.server.ServedModel;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client examples of {@code clients/<language>} (Python, Node.js, Go), each run as a process against a real
 * cluster of the demo model: they stream the reference answers of samples.json, print the grounding sample's box
 * (the reference answer's numbers, and those times the image's side in pixels), send the bearer token given by flag
 * or by {@code CONVLLAVA_TOKEN} over TLS, and on a refused or failed call print the gRPC status code and exit 1.
 * The cluster asks for TLS and a token, so that a client ignoring either fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientExamplesTest {
    private static final String TOKEN = "token-of-the-client-examples";
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);
    /** A trailer line of an example's output: after the streamed answer, one per box, then why it stopped. */
    private static final Pattern BOX = Pattern.compile(
            "box: image 0 normalized \\[(.*)] pixels \\[(.*)]");

    private final ClientToolchains toolchains = new ClientToolchains();
    private final Path model = Fixtures.shapesModel();
    private TestingServer zookeeper;
    private TestCluster cluster;
    private Path ca;
    private JsonObject counting;
    private JsonObject grounding;

    @BeforeAll
    void start() throws Exception {
        Path certs = Files.createTempDirectory("client-examples");
        DevelopmentCertificates.write(certs, List.of("localhost", "127.0.0.1"), Duration.ofDays(1), "test CA");
        ca = certs.resolve(DevelopmentCertificates.CA_CERT);
        Path tokens = Files.writeString(certs.resolve("tokens"), TOKEN + "\n");
        TlsConfig member = TlsConfig.member(certs.resolve(DevelopmentCertificates.NODE_CERT),
                certs.resolve(DevelopmentCertificates.NODE_KEY), ca);
        zookeeper = new TestingServer(true);
        ModelFiles files = ModelFiles.resolve(model.toString(), null, null);
        cluster = new TestCluster(zookeeper, files, "convllava-shapes")
                .withTransport(TransportOptions.DEFAULTS.withTls(member));
        BearerTokens required = BearerTokens.load(tokens);
        cluster.coordinator(ServedModel.load("convllava-shapes", files), c -> c.withTokens(required));
        cluster.vision();
        cluster.llm("0-4");
        cluster.awaitPipelines(1);
        counting = sample("count");
        grounding = sample("ground");
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (zookeeper != null) {
            zookeeper.close();
        }
    }

    @Test
    void pythonExampleAnswersTheSamples() throws Exception {
        assertAnswersTheSamples(toolchains.python());
    }

    @Test
    void nodeExampleAnswersTheSamples() throws Exception {
        assertAnswersTheSamples(toolchains.node());
    }

    @Test
    void goExampleAnswersTheSamples() throws Exception {
        assertAnswersTheSamples(toolchains.go());
    }

    @Test
    void checkedInGoStubsAreThoseOfTheProtos() throws Exception {
        Path fresh = toolchains.goStubsCompiledNow();
        Path checkedIn = toolchains.clients().resolve("go/convllavapb");
        assertEquals(names(fresh), names(checkedIn), "files of clients/go/convllavapb; run clients/go/compile_protos.sh");
        for (String name : names(fresh)) {
            assertEquals(Files.readString(fresh.resolve(name)), Files.readString(checkedIn.resolve(name)),
                    "clients/go/convllavapb/" + name + " is not what the protos give now: run clients/go/compile_protos.sh");
        }
    }

    private void assertAnswersTheSamples(List<String> example) throws Exception {
        String target = cluster.coordinatorAddress();
        // the counting sample, the token from the environment
        ExampleProcess count = run(example, Map.of("CONVLLAVA_TOKEN", TOKEN), "--target", target,
                "--tls-ca", ca.toString(), "--image", image(counting), "--prompt", question(counting));
        Output answer = Output.of(count);
        assertEquals(counting.get("reference_answer").getAsString(), answer.text(), count.describe());
        assertEquals(List.of(), answer.boxes(), count.describe());
        assertTrue(answer.finish().startsWith("finish: STOP,"), count.describe());

        // the grounding sample, the token by flag: the box as the model wrote it, and in the image's pixels
        ExampleProcess ground = run(example, Map.of(), "--target", target, "--tls-ca", ca.toString(),
                "--token", TOKEN, "--image", image(grounding), "--prompt", question(grounding));
        answer = Output.of(ground);
        String reference = grounding.get("reference_answer").getAsString();
        assertEquals(reference, answer.text(), ground.describe());
        assertEquals(1, answer.boxes().size(), ground.describe());
        Matcher box = BOX.matcher(answer.boxes().get(0));
        assertTrue(box.matches(), ground.describe());
        double[] written = numbers(reference.substring(1, reference.length() - 1));
        // a square image: no padding to remove, the numbers are relative to its side
        int side = ImageIO.read(model.resolve(grounding.get("image").getAsString()).toFile()).getWidth();
        assertClose(written, numbers(box.group(1)), 0.0006, "normalized", ground);
        assertClose(Arrays.stream(written).map(v -> v * side).toArray(), numbers(box.group(2)), 0.051, "pixels",
                ground);

        // no token: the coordinator's refusal, with its code
        ExampleProcess refused = run(example, Map.of(), "--target", target, "--tls-ca", ca.toString(),
                "--image", image(counting), "--prompt", question(counting));
        assertEquals(1, refused.exitCode(), refused.describe());
        assertTrue(refused.err().contains("UNAUTHENTICATED") && refused.err().contains("needs a bearer token"),
                refused.describe());

        // plaintext to a port nobody listens on
        ExampleProcess unreachable = run(example, Map.of(), "--target", "127.0.0.1:" + closedPort(),
                "--prompt", question(counting), "--timeout-s", "20");
        assertEquals(1, unreachable.exitCode(), unreachable.describe());
        assertTrue(unreachable.err().contains("UNAVAILABLE"), unreachable.describe());
    }

    private static ExampleProcess run(List<String> example, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(example);
        command.addAll(List.of(args));
        return ExampleProcess.run(Path.of("."), env, RUN_TIMEOUT, command);
    }

    /** An example's stdout: the streamed answer, then its trailer lines (boxes, finish). */
    private record Output(String text, List<String> boxes, String finish) {
        static Output of(ExampleProcess run) {
            assertEquals(0, run.exitCode(), run::describe);
            List<String> lines = new ArrayList<>(List.of(run.out().split("\n", -1)));
            assertEquals("", lines.remove(lines.size() - 1), () -> "the output ends with a newline\n" + run.describe());
            String finish = lines.remove(lines.size() - 1);
            assertTrue(finish.startsWith("finish: "), run::describe);
            List<String> boxes = new ArrayList<>();
            while (!lines.isEmpty() && lines.get(lines.size() - 1).startsWith("box: ")) {
                boxes.add(0, lines.remove(lines.size() - 1));
            }
            return new Output(String.join("\n", lines), boxes, finish);
        }
    }

    private JsonObject sample(String kind) throws IOException {
        return JsonParser.parseString(Files.readString(model.resolve("samples.json"))).getAsJsonObject()
                .getAsJsonArray("samples").asList().stream().map(e -> e.getAsJsonObject())
                .filter(s -> s.get("kind").getAsString().equals(kind)).findFirst().orElseThrow();
    }

    private String image(JsonObject sample) {
        return model.resolve(sample.get("image").getAsString()).toString();
    }

    private static String question(JsonObject sample) {
        return sample.get("question").getAsString();
    }

    private static double[] numbers(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).mapToDouble(s -> Double.parseDouble(s.strip())).toArray();
    }

    private static void assertClose(double[] expected, double[] actual, double tolerance, String what,
                                    ExampleProcess run) {
        assertEquals(expected.length, actual.length, what + "\n" + run.describe());
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance, what + " " + i + "\n" + run.describe());
        }
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }
}
