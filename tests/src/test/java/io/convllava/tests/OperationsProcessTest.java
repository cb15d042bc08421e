package io.convllava.tests;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import io.convllava.cli.LocalCluster;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import io.convllava.proto.v1.NodeStatus;
import io.grpc.ManagedChannel;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Operating a running {@code ./convllava local} (issue 11): every role's Prometheus endpoint, with time-to-first-token
 * and token latency histograms whose counts match the requests made; server reflection listing the public and
 * internal services; JSON logs in which a client's request id appears on every node that served the request.
 */
class OperationsProcessTest {
    private static final int REQUESTS = 3;
    private static final String QUESTION = "How many shapes are in the image?";

    @Test
    void metricsReflectionAndRequestIdsOfALocalCluster(@TempDir Path logs) throws Exception {
        int metricsPort = freePorts(4);
        LocalCluster.Spec spec = new LocalCluster.Spec(Fixtures.shapesModel().toString(), null, null, "cpu", 1,
                List.of("0-2", "2-4"), 0, logs, "-Xmx512m").withMetricsPort(metricsPort).withLogFormat("json");
        try (LocalCluster cluster = new LocalCluster(spec, new PrintStream(PrintStream.nullOutputStream()))) {
            String endpoint = cluster.start(Duration.ofMinutes(3));
            Map<String, String> metrics = cluster.metricsEndpoints();
            assertEquals(List.of("vision-0", "llm-0", "llm-1"), metrics.keySet().stream()
                    .filter(n -> !n.startsWith("coordinator")).toList());
            String coordinatorName = metrics.keySet().stream().filter(n -> n.startsWith("coordinator")).findFirst()
                    .orElseThrow();
            assertEquals("http://127.0.0.1:" + metricsPort + "/metrics", metrics.get(coordinatorName),
                    "the coordinator takes the given port, the others the ports after it");
            assertEquals("http://127.0.0.1:" + (metricsPort + 1) + "/metrics", metrics.get("vision-0"));

            ManagedChannel channel = Channels.forAddress(endpoint, TransportOptions.DEFAULTS);
            try {
                byte[] image = Files.readAllBytes(Fixtures.shapesModel().resolve("samples/sample-count-0.png"));
                int tokens = 0;
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < REQUESTS; i++) {
                    String id = "ops-test-" + i + "-" + System.nanoTime();
                    ids.add(id);
                    int streamed = stream(channel, id, image);
                    assertTrue(streamed >= 1, "request " + id + " streamed no token");
                    tokens += streamed;
                }

                Map<String, Double> coordinator = scrape(metrics.get(coordinatorName));
                assertEquals(REQUESTS, coordinator.get("convllava_time_to_first_token_seconds_count"), 0.0);
                assertEquals(tokens - REQUESTS, coordinator.get("convllava_token_latency_seconds_count"), 0.0,
                        "one latency per token after each stream's first");
                assertEquals(REQUESTS, coordinator.get("convllava_requests_total{code=\"OK\"}"), 0.0);
                assertEquals(tokens, coordinator.get("convllava_generated_tokens_total"), 0.0);
                assertEquals(REQUESTS, coordinator.get(
                        "convllava_time_to_first_token_seconds_bucket{le=\"+Inf\"}"), 0.0);
                assertTrue(coordinator.containsKey("jvm_memory_used_bytes{area=\"heap\"}"), "JVM metrics too");
                for (String llm : List.of("llm-0", "llm-1")) {
                    Map<String, Double> node = scrape(metrics.get(llm));
                    assertTrue(node.getOrDefault("convllava_llm_positions_total{kind=\"decode\"}", 0.0)
                            >= tokens - REQUESTS, llm + " decoded every token");
                    assertTrue(node.get("convllava_llm_step_seconds_count") > 0, llm);
                    assertEquals(1.0, node.get("convllava_model_load_progress{part=\"decoder\"}"), 0.0, llm);
                    // the first stage is called with Forward, the next with ForwardBatch
                    assertTrue(node.entrySet().stream().anyMatch(e -> e.getKey().startsWith(
                                    "convllava_grpc_server_handled_total{code=\"OK\","
                                            + "method=\"convllava.v1.LlmNode/Forward") && e.getValue() > 0),
                            llm + " answered steps");
                }
                // the same image each time: the first request's encode serves the others from the coordinator
                Map<String, Double> vision = scrape(metrics.get("vision-0"));
                assertEquals(1.0, vision.get("convllava_vision_images_total{source=\"encoded\"}"), 0.0);
                assertEquals(1.0, coordinator.get("convllava_embedding_cache_total{result=\"miss\"}"), 0.0);
                assertEquals(REQUESTS - 1, coordinator.get("convllava_embedding_cache_total{result=\"hit\"}"), 0.0);
                assertTrue(coordinator.get("convllava_hop_bytes_total{direction=\"sent\","
                        + "method=\"convllava.v1.VisionNode/Encode\",peer=\"" + address(channel, "vision-0")
                        + "\"}") > image.length, "the image went to the vision node");

                ClusterStatus status = ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
                assertTrue(services(endpoint).containsAll(Set.of("convllava.v1.ConvLlava", "grpc.health.v1.Health",
                        "grpc.reflection.v1.ServerReflection")), services(endpoint).toString());
                for (NodeStatus node : status.getNodesList()) {
                    String internal = node.getRole() == NodeStatus.Role.LLM ? "convllava.v1.LlmNode"
                            : node.getRole() == NodeStatus.Role.VISION ? "convllava.v1.VisionNode"
                            : "convllava.v1.ConvLlava";
                    assertTrue(services(node.getAddress()).contains(internal), node.getId() + " lists "
                            + services(node.getAddress()));
                }

                for (String id : ids) {
                    // only the first request's image reached the vision node
                    List<String> reached = id.equals(ids.get(0)) ? List.of(coordinatorName, "vision-0", "llm-0",
                            "llm-1") : List.of(coordinatorName, "llm-0", "llm-1");
                    for (String node : reached) {
                        List<JsonObject> lines = jsonLines(logs.resolve(node + ".log"));
                        assertTrue(lines.stream().anyMatch(l -> l.has("request_id")
                                        && l.get("request_id").getAsString().equals(id)
                                        && l.get("node").getAsString().equals(node)),
                                "request " + id + " in the log of " + node);
                    }
                }
            } finally {
                channel.shutdownNow();
            }
        }
    }

    /** Streams one counting question under {@code requestId}; returns the tokens it streamed. */
    private static int stream(ManagedChannel channel, String requestId, byte[] image) {
        Iterator<GenerateResponse> events = ConvLlavaGrpc.newBlockingStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS)
                .generate(GenerateRequest.newBuilder().setRequestId(requestId).setMaxNewTokens(8)
                        .addMessages(Message.newBuilder().setRole(Message.Role.USER).setText(QUESTION)
                                .addImages(Image.newBuilder().setData(ByteString.copyFrom(image))))
                        .build());
        int tokens = 0;
        while (events.hasNext()) {
            GenerateResponse event = events.next();
            tokens += event.hasDelta() ? event.getDelta().getTokenIdsCount() : 0;
        }
        return tokens;
    }

    private static String address(ManagedChannel channel, String nodeId) {
        return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .getClusterStatus(GetClusterStatusRequest.getDefaultInstance()).getNodesList().stream()
                .filter(n -> n.getId().equals(nodeId)).findFirst().orElseThrow().getAddress();
    }

    /** The services a server lists through reflection (v1), as grpcurl's {@code list} asks for them. */
    static Set<String> services(String address) throws Exception {
        ManagedChannel channel = Channels.forAddress(address, TransportOptions.DEFAULTS);
        try {
            CompletableFuture<Set<String>> listed = new CompletableFuture<>();
            StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS).serverReflectionInfo(new StreamObserver<>() {
                        @Override
                        public void onNext(ServerReflectionResponse response) {
                            listed.complete(response.getListServicesResponse().getServiceList().stream()
                                    .map(ServiceResponse::getName).collect(Collectors.toSet()));
                        }

                        @Override
                        public void onError(Throwable t) {
                            listed.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
            requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
            Set<String> names = listed.get(10, TimeUnit.SECONDS);
            requests.onCompleted();
            return names;
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * A Prometheus text page as series -> value, comments skipped; a series is its name with its labels as the page
     * prints them (sorted by label name).
     */
    static Map<String, Double> scrape(String url) throws IOException, InterruptedException {
        HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode(), url);
        Map<String, Double> series = new HashMap<>();
        Pattern line = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{.*})?) (\\S+)$");
        for (String l : page.body().split("\n")) {
            Matcher m = line.matcher(l);
            if (!l.startsWith("#") && m.matches()) {
                series.put(m.group(1), Double.parseDouble(m.group(2)));
            }
        }
        return series;
    }

    private static List<JsonObject> jsonLines(Path log) throws IOException {
        List<JsonObject> lines = new ArrayList<>();
        for (String l : Files.readAllLines(log)) {
            if (l.startsWith("{")) {
                lines.add(JsonParser.parseString(l).getAsJsonObject());
            }
        }
        return lines;
    }

    /** The first of {@code count} consecutive free loopback ports. */
    private static int freePorts(int count) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                base = probe.getLocalPort();
            }
            if (base + count > 65535) {
                continue;
            }
            boolean free = true;
            for (int p = base; p < base + count && free; p++) {
                try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                    free = s.getLocalPort() == p;
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no " + count + " consecutive free ports on loopback");
    }
}
