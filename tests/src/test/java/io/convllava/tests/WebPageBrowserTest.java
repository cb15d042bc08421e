package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.node.FaultInjection;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.BearerTokens;
import io.convllava.coordinator.httpapi.HttpApiConfig;
import io.convllava.coordinator.server.CoordinatorServer;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.NodeStatus;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The web chat and cluster pages in headless Chromium (Debian's {@code chromium}, driven by {@code playwright-core}
 * with {@code tests/web/check-pages.mjs}) against a real cluster of the demo model with bearer tokens: the page asks
 * for the token; a picked sample gets its reference answer (samples.json) streamed; the grounding answer's box is drawn
 * where the reference box is; Stop in the middle of an answer releases its session on every llm node; the cluster
 * page lists every node and shows the tokens of a request made while it watches; no Content-Security-Policy
 * violation or script error on the way. The llm nodes' decode steps are slowed (80
 * ms a stage) so that an answer is still streaming when Stop is pressed. Screenshots go to
 * {@code tests/target/web-screenshots/}.
 */
class WebPageBrowserTest {
    private static final String TOKEN = "web-page-test-token";
    private static final String MODEL = "convllava-shapes";
    private static final long DECODE_STEP_DELAY_MS = 80;
    private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(150);
    private static final Path ROOT = Fixtures.projectRoot();
    private static final Path SCRIPTS = ROOT.resolve("tests/web");
    private static final Path SCREENSHOTS = ROOT.resolve("tests/target/web-screenshots");

    private TestingServer zookeeper;
    private TestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (zookeeper != null) {
            zookeeper.close();
        }
    }

    @Test
    void aUserAsksAboutPicturesStopsAnAnswerAndSeesTheCluster() throws Exception {
        Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        assumeTrue(Files.isExecutable(chromium), "no Chromium at " + chromium + ": install Debian's chromium"
                + " (apt-get install chromium; .ci/install-client-packages does) or set CHROMIUM");
        Optional<Path> node = ExampleProcess.onPath("node");
        Optional<Path> npm = ExampleProcess.onPath("npm");
        assumeTrue(node.isPresent() && npm.isPresent(), "no node and npm on the PATH: install Node.js 18 or newer"
                + " (Debian: apt-get install nodejs npm)");
        installPlaywright(npm.get());

        Path model = Fixtures.shapesModel();
        JsonArray samples = JsonParser.parseString(Files.readString(model.resolve("samples.json"))).getAsJsonObject()
                .getAsJsonArray("samples");
        Path tokens = Files.createTempFile("web-page-tokens", "");
        Files.writeString(tokens, TOKEN + "\n");
        BearerTokens required = BearerTokens.load(tokens);
        zookeeper = new TestingServer(true);
        ModelFiles files = ModelFiles.resolve(model.toString(), null, null);
        cluster = new TestCluster(zookeeper, files, MODEL);
        CoordinatorServer coordinator = cluster.coordinator(ServedModel.load(MODEL, files),
                c -> c.withTokens(required).withHttp(HttpApiConfig.onPort(0)));
        cluster.vision();
        List<LlmNode> llmNodes;
        System.setProperty(FaultInjection.DECODE_STEP_DELAY, String.valueOf(DECODE_STEP_DELAY_MS));
        try {
            llmNodes = List.of(cluster.llm("0-2"), cluster.llm("2-4"));
        } finally {
            System.clearProperty(FaultInjection.DECODE_STEP_DELAY); // read when a node starts: these two keep it
        }
        cluster.awaitPipelines(1);
        assertPageServedWithItsPolicy(coordinator.httpUrl());

        Files.createDirectories(SCREENSHOTS);
        Map<String, JsonObject> results = new HashMap<>();
        ProcessBuilder builder = new ProcessBuilder(node.get().toString(), SCRIPTS.resolve("check-pages.mjs").toString())
                .directory(SCRIPTS.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().putAll(Map.of("BASE_URL", coordinator.httpUrl(), "TOKEN", TOKEN,
                "SAMPLES", model.resolve("samples").toString(), "OUT", SCREENSHOTS.toString(),
                "CHROMIUM", chromium.toString()));
        long started = System.nanoTime();
        Process script = builder.start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(script.getInputStream(),
                StandardCharsets.UTF_8));
             Writer in = new OutputStreamWriter(script.getOutputStream(), StandardCharsets.UTF_8)) {
            Thread killer = new Thread(() -> {
                try {
                    if (!script.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                        script.descendants().forEach(ProcessHandle::destroyForcibly);
                        script.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "check-pages-timeout");
            killer.setDaemon(true);
            killer.start();
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                System.out.println("check-pages: " + line);
                if (line.startsWith("RESULT ")) {
                    String[] parts = line.split(" ", 3);
                    results.put(parts[1], JsonParser.parseString(parts[2]).getAsJsonObject());
                } else if (line.startsWith("STREAMING ")) {
                    assertTrue(llmNodes.stream().allMatch(n -> n.activeSessions() == 1),
                            "every llm stage holds the session of the answer being streamed");
                    send(in, "STOP");
                } else if (line.startsWith("STOPPED ")) {
                    long stopped = System.nanoTime();
                    JsonObject state = JsonParser.parseString(line.substring(8)).getAsJsonObject();
                    TestCluster.await(() -> llmNodes.stream().allMatch(n -> n.activeSessions() == 0),
                            Duration.ofSeconds(10), "every llm stage to release the session of the stopped answer");
                    System.out.printf("sessions released %.0f ms after Stop%n", (System.nanoTime() - stopped) / 1e6);
                    assertTrue(state.get("sendEnabled").getAsBoolean() && !state.get("stopEnabled").getAsBoolean(),
                            "after Stop, Send is enabled and Stop is not: " + state);
                    results.put("stopped", state);
                    send(in, "CONTINUE");
                }
            }
        }
        assertTrue(script.waitFor(10, TimeUnit.SECONDS), "check-pages.mjs ends");
        assertEquals(0, script.exitValue(), "check-pages.mjs failed (its error is above); results: " + results);
        System.out.printf("check-pages.mjs took %.1f s%n", (System.nanoTime() - started) / 1e9);

        assertEquals(MODEL, results.get("models").get("model").getAsString(), "the page names the served model");
        assertEquals("send", results.get("keyboard").get("afterQuestion").getAsString(), "Tab from the question");
        assertTrue(results.get("unsupported").get("error").getAsString().startsWith("Unsupported format: text/plain"),
                "a text file is refused: " + results.get("unsupported"));

        JsonObject count = results.get("count");
        assertEquals(reference(samples, "samples/sample-count-0.png"), count.get("answer").getAsString(),
                "the counting answer on the page: " + count);
        assertEquals("done", count.get("state").getAsString());
        assertEquals("stop", count.get("finish").getAsString());

        assertGroundingBoxDrawn(results.get("ground"), reference(samples, "samples/sample-ground-1.png"));

        JsonObject second = results.get("second-turn");
        assertEquals("done", second.get("state").getAsString(), "a second question on the same picture: " + second);
        assertEquals(4, second.get("messages").getAsInt(), "two questions and two answers on the page");

        JsonObject stopped = results.get("stopped");
        String partial = stopped.get("text").getAsString();
        assertTrue(!partial.isEmpty() && reference(samples, "samples/sample-ground-1.png").startsWith(partial)
                && partial.length() < reference(samples, "samples/sample-ground-1.png").length(),
                "the stopped answer is a beginning of the grounding answer: '" + partial + "'");

        assertTrue(results.get("phone").get("scrollWidth").getAsInt() <= 390,
                "nothing wider than a 390 px screen: " + results.get("phone"));

        JsonObject page = results.get("cluster");
        List<String> listed = page.getAsJsonArray("nodes").asList().stream()
                .map(e -> e.getAsJsonObject().get("id").getAsString()).sorted().toList();
        List<String> nodes = cluster.client().withInterceptors(BearerTokens.sending(TOKEN))
                .withDeadlineAfter(10, TimeUnit.SECONDS).getClusterStatus(GetClusterStatusRequest.getDefaultInstance())
                .getNodesList().stream().map(NodeStatus::getId).sorted().toList();
        assertEquals(4, nodes.size(), "a coordinator, a vision node and two llm nodes");
        assertEquals(nodes, listed, "the cluster page lists every node");
        assertTrue(page.get("coverageRects").getAsInt() >= 2 + 4, "a bar per llm node and a cell per layer");
        assertTrue(Double.parseDouble(page.get("tokensPerSecond").getAsString()) > 0
                && page.get("firstToken").getAsString().matches("\\d+ ms"),
                "a request while the page watched shows in its token rate and time to first token: " + page);
        assertNull(page.get("error").isJsonNull() ? null : page.get("error").getAsString(), "no error on the page");

        assertEquals(0, results.get("csp").getAsJsonArray("violations").size(),
                "no Content-Security-Policy violation or script error: " + results.get("csp"));
        for (String shot : List.of("chat-grounding.png", "chat-phone.png", "cluster.png")) {
            assertTrue(Files.size(SCREENSHOTS.resolve(shot)) > 1000, shot + " was taken");
        }
    }

    /**
     * The reference box ("[x1, y1, x2, y2]", relative to the picture: the samples are square, so no padding) scaled
     * to the displayed picture must be where the page drew the box, within 2 px.
     */
    private static void assertGroundingBoxDrawn(JsonObject ground, String reference) {
        assertEquals(reference, ground.get("answer").getAsString(), "the grounding answer on the page: " + ground);
        JsonObject natural = ground.getAsJsonObject("natural");
        assertEquals(natural.get("width").getAsInt(), natural.get("height").getAsInt(), "the sample is square");
        double[] want = java.util.Arrays.stream(reference.replaceAll("[\\[\\]]", "").split(","))
                .mapToDouble(s -> Double.parseDouble(s.strip())).toArray();
        JsonObject image = ground.getAsJsonObject("image");
        JsonObject box = ground.getAsJsonObject("box");
        double w = image.get("width").getAsDouble();
        double h = image.get("height").getAsDouble();
        String at = "box " + box + " on a " + w + "x" + h + " picture, reference " + reference;
        assertEquals(want[0] * w, box.get("left").getAsDouble(), 2, "left edge: " + at);
        assertEquals(want[1] * h, box.get("top").getAsDouble(), 2, "top edge: " + at);
        assertEquals((want[2] - want[0]) * w, box.get("width").getAsDouble(), 2, "width: " + at);
        assertEquals((want[3] - want[1]) * h, box.get("height").getAsDouble(), 2, "height: " + at);
    }

    /** The page is public and carries its policy; the API behind it is not. */
    private static void assertPageServedWithItsPolicy(String base) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode());
        assertEquals("text/html; charset=utf-8", page.headers().firstValue("Content-Type").orElse(null));
        String policy = page.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), policy);
        String etag = page.headers().firstValue("ETag").orElseThrow();
        assertEquals(304, http.send(HttpRequest.newBuilder(URI.create(base + "/")).header("If-None-Match", etag)
                .build(), HttpResponse.BodyHandlers.discarding()).statusCode(), "unchanged: not sent again");
        assertEquals("text/javascript; charset=utf-8", http.send(HttpRequest.newBuilder(URI.create(base
                + "/web/chat.js")).build(), HttpResponse.BodyHandlers.discarding()).headers()
                .firstValue("Content-Type").orElse(null));
        assertEquals(401, http.send(HttpRequest.newBuilder(URI.create(base + "/v1/cluster")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode(), "the API needs the token");
        assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(base + "/web/../pom.xml")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode(), "only the page's own assets");
    }

    private static String reference(JsonArray samples, String image) {
        for (JsonElement e : samples) {
            if (e.getAsJsonObject().get("image").getAsString().equals(image)) {
                return e.getAsJsonObject().get("reference_answer").getAsString();
            }
        }
        throw new AssertionError(image + " is not in samples.json");
    }

    private static void send(Writer in, String word) throws IOException {
        in.write(word + "\n");
        in.flush();
    }

    /** {@code npm ci} in tests/web when its packages are missing or older than its lock file. */
    private static void installPlaywright(Path npm) throws IOException, InterruptedException {
        Path installed = SCRIPTS.resolve("node_modules/.package-lock.json");
        if (Files.exists(installed) && Files.getLastModifiedTime(installed)
                .compareTo(Files.getLastModifiedTime(SCRIPTS.resolve("package-lock.json"))) >= 0) {
            return;
        }
        ExampleProcess ci = ExampleProcess.run(SCRIPTS, Map.of(), Duration.ofMinutes(3),
                List.of(npm.toString(), "ci", "--no-audit", "--no-fund"));
        assertEquals(0, ci.exitCode(), () -> "npm ci of playwright-core failed: " + ci.describe());
    }
}
