package io.convllava.tests;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.transport.TensorCodec;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.cli.local.LocalEngine;
import io.convllava.coordinator.server.ImageCache;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;
import io.convllava.common.testing.Fixtures;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.ListModelsRequest;
import io.convllava.proto.v1.ModelInfo;
import io.convllava.proto.v1.NodeStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One vision node and two llm nodes ([0,2) + [2,4)) behind a coordinator, all over gRPC on loopback. */
class ClusterGenerationTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static TestingServer zookeeper;
    private static TestCluster cluster;
    private static List<LlmNode> llmNodes;
    private static byte[] image;

    @BeforeAll
    static void startCluster() throws Exception {
        zookeeper = new TestingServer(true);
        cluster = new TestCluster(zookeeper);
        cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY));
        cluster.vision();
        llmNodes = List.of(cluster.llm("0-2"), cluster.llm("2-4"));
        cluster.awaitPipelines(1);
        image = Files.readAllBytes(TINY.image());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        cluster.close();
        zookeeper.close();
    }

    @Test
    void imageQuestionMatchesTheReference() {
        Streams.Answer answer = Streams.collect(cluster.client().generate(
                Streams.request(TINY.question(0), image, 12, true)));
        TINY.assertGreedyPrefix(0, answer.tokens());
        Final last = answer.last();
        assertArrayEquals(Reference.ints(TINY.testCase(0).getAsJsonArray("input_ids")),
                last.getInputIdsList().stream().mapToInt(Integer::intValue).toArray());
        float[] logits = TensorCodec.decode(last.getPrefillLogits(), "prefill_logits").data();
        float diff = Reference.maxAbsDiff(logits, TINY.npy("case0-prefill-logits.npy").data());
        assertTrue(diff <= 1e-3f, "prefill logits differ by " + diff);
        assertEquals(TINY.testCase(0).get("sequence_length").getAsInt(), last.getUsage().getPromptTokens());
        assertEquals(16, last.getUsage().getImageTokens());
        assertEquals(12, last.getUsage().getCompletionTokens());
        assertEquals(Final.FinishReason.LENGTH, last.getFinishReason());
        assertEquals(answer.streamedText().strip(), last.getText());
        assertTrue(last.getTimings().getTotalMs() >= last.getTimings().getFirstTokenMs());
        assertTrue(last.getTimings().getImageMs() > 0, "the image took time: " + last.getTimings());
        assertTrue(last.getTimings().getImageMs() <= last.getTimings().getEncodeMs(),
                "image_ms is part of encode_ms: " + last.getTimings());
    }

    @Test
    void textOnlyQuestionMatchesTheReference() {
        Streams.Answer answer = Streams.collect(cluster.client().generate(
                Streams.request(TINY.question(1), null, 12, true)));
        TINY.assertGreedyPrefix(1, answer.tokens());
        float[] logits = TensorCodec.decode(answer.last().getPrefillLogits(), "prefill_logits").data();
        assertTrue(Reference.maxAbsDiff(logits, TINY.npy("case1-prefill-logits.npy").data()) <= 1e-3f);
        assertEquals(0, answer.last().getUsage().getImageTokens());
        assertEquals(0, answer.last().getTimings().getImageMs(), "no image, no image time");
    }

    @Test
    void anUploadedImageCanBeReferencedByItsHash() {
        Streams.Answer byBytes = Streams.collect(cluster.client().generate(
                Streams.request(TINY.question(0), image, 4, false)));
        GenerateRequest byHash = Streams.request(TINY.question(0), null, 4, false).toBuilder()
                .setMessages(0, Streams.request(TINY.question(0), null, 4, false).getMessages(0).toBuilder()
                        .addImages(Image.newBuilder().setSha256(ImageCache.sha256(image))))
                .build();
        assertArrayEquals(byBytes.tokens(), Streams.collect(cluster.client().generate(byHash)).tokens());
    }

    @Test
    void badImageBytesAreInvalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> Streams.collect(
                cluster.client().generate(Streams.request("What is this?", new byte[] {1, 2, 3, 4}, 4, false))));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("image 0"), e.getStatus().getDescription());
    }

    @Test
    void theClusterRefusesWhatTheInProcessPathRefusesWithTheSameMessage() {
        byte[] oversize = new byte[40_000_000];
        record Case(String question, byte[] image, int maxNewTokens) {
        }
        List<Case> cases = List.of(new Case(" \n", image, 4), new Case("", null, 4),
                new Case("What is this?", null, 100_000_000), new Case("What is this?", null, -1),
                new Case("What is this?", oversize, 4));
        try (LocalEngine local = LocalEngine.load(TestCluster.TINY, "cpu", null)) {
            for (Case c : cases) {
                GenerationRequest inProcess = new GenerationRequest(
                        List.of(ChatMessage.user(c.question(), c.image() == null ? 0 : 1)),
                        c.image() == null ? List.of() : List.of(ImageInput.ofBytes(c.image())),
                        ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, c.maxNewTokens(), List.of(), false, false);
                String refused = assertThrows(IllegalArgumentException.class,
                        () -> local.generator().generate(inProcess, (id, text) -> { })).getMessage();
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> Streams.collect(
                        cluster.client().generate(Streams.request(c.question(), c.image(), c.maxNewTokens(), false))));
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), refused);
                assertEquals(refused, e.getStatus().getDescription());
            }
        }
    }

    @Test
    void clusterStatusShowsEveryNodeAndTheCoverage() {
        ClusterStatus status = cluster.client().getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
        assertEquals(4, status.getNodesCount(), status.toString());
        assertEquals(List.of(NodeStatus.Role.COORDINATOR, NodeStatus.Role.VISION, NodeStatus.Role.LLM,
                        NodeStatus.Role.LLM),
                status.getNodesList().stream().map(NodeStatus::getRole).sorted().toList());
        List<String> ranges = status.getNodesList().stream().filter(NodeStatus::hasLayers)
                .map(n -> n.getLayers().getStart() + "-" + n.getLayers().getEnd()).sorted().toList();
        assertEquals(List.of("0-2", "2-4"), ranges);
        assertEquals(4, status.getNumLayers());
        assertTrue(status.getLayersCovered());
        assertEquals(List.of(1, 1, 1, 1), status.getLayerReplicasList());
        assertEquals(1, status.getPipelinesCount());
        assertEquals(2, status.getPipelines(0).getNodeIdsCount());
        assertTrue(status.getPlanEpoch() >= 1, "fixed-range nodes are planned too");

        CliRun table = CliRun.of("status", "--target", cluster.coordinatorAddress());
        assertEquals(0, table.exitCode, table.err);
        assertTrue(table.out.contains("layers 0-4: covered (0-4 x1)"), table.out);
        for (LlmNode node : llmNodes) {
            assertTrue(table.out.contains(node.nodeId()), table.out);
        }
    }

    @Test
    void listModelsDescribesTheTinyModel() {
        ModelInfo model = cluster.client().listModels(ListModelsRequest.getDefaultInstance()).getModels(0);
        assertEquals("tiny-convllava", model.getId());
        assertEquals(4, model.getNumLayers());
        assertEquals(16, model.getTokensPerImage());
        assertEquals(256, model.getImageResolution());
    }

    @Test
    void eightConcurrentStreamsEachGetTheirOwnAnswer() throws Exception {
        byte[][] images = {image, Files.readAllBytes(Fixtures.file("hubtiny-convllava", "image.png")),
                Files.readAllBytes(Fixtures.shapesModel().resolve("samples/sample-color-0.png")), null};
        String[] questions = {"What is shown in this image?", "Describe the picture.", "What color is it?",
                "Tell me a story.", "How many shapes are there?", "Where is the circle?", "Is it big?", "Why?"};
        List<int[]> expected = new ArrayList<>();
        try (LocalEngine local = LocalEngine.load(TestCluster.TINY, "cpu", new int[] {0, 2, 4})) {
            for (int i = 0; i < 8; i++) {
                byte[] img = images[i % images.length];
                GenerationRequest r = new GenerationRequest(List.of(ChatMessage.user(questions[i], img == null ? 0 : 1)),
                        img == null ? List.of() : List.of(ImageInput.ofBytes(img)), ConversationTemplate.VICUNA_V1,
                        SamplingParams.GREEDY, 8, List.of(), false, false);
                expected.add(local.generator().generate(r, (id, text) -> { }).tokens());
            }
        }
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<CompletableFuture<int[]>> answers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                GenerateRequest request = Streams.request(questions[i], images[i % images.length], 8, false);
                answers.add(CompletableFuture.supplyAsync(
                        () -> Streams.collect(cluster.client().generate(request)).tokens(), clients));
            }
            for (int i = 0; i < 8; i++) {
                assertArrayEquals(expected.get(i), answers.get(i).get(60, TimeUnit.SECONDS),
                        "stream " + i + " (" + questions[i] + ")");
            }
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void aCancelledStreamReleasesItsSessionOnEveryStage() throws Exception {
        CompletableFuture<Status> ended = new CompletableFuture<>();
        cluster.asyncClient().generate(Streams.request(TINY.question(0), image, 2000, false),
                new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
                    private ClientCallStreamObserver<GenerateRequest> call;

                    @Override
                    public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
                        call = requestStream;
                    }

                    @Override
                    public void onNext(GenerateResponse value) {
                        call.cancel("the test has seen enough", null);
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        ended.complete(Status.OK);
                    }
                });
        assertEquals(Status.Code.CANCELLED, ended.get(30, TimeUnit.SECONDS).getCode());
        TestCluster.await(() -> llmNodes.stream().allMatch(n -> n.activeSessions() == 0),
                "every stage to release the cancelled session: " + Arrays.toString(
                        llmNodes.stream().mapToInt(LlmNode::activeSessions).toArray()));
    }

    @Test
    void aPassedDeadlineEndsTheStreamAndReleasesTheSession() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> Streams.collect(cluster.client()
                .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                .generate(Streams.request(TINY.question(0), image, 2000, false))));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        TestCluster.await(() -> llmNodes.stream().allMatch(n -> n.activeSessions() == 0),
                "every stage to release the session whose deadline passed");
    }

    @Test
    void theCliStreamsFromTheClusterWithTheInProcessJson() {
        String imagePath = TINY.image().toString();
        CliRun remote = CliRun.of("generate", "--target", cluster.coordinatorAddress(), "--image", imagePath,
                "--prompt", TINY.question(0), "--max-new-tokens", "12", "--json");
        CliRun local = CliRun.of("generate", "--model", Fixtures.tinyModel().toString(), "--image", imagePath,
                "--prompt", TINY.question(0), "--max-new-tokens", "12", "--json");
        for (String field : List.of("input_ids", "tokens", "text", "finish_reason", "usage")) {
            assertEquals(local.json().get(field), remote.json().get(field), field);
        }
        TINY.assertGreedyPrefix(0, Reference.ints(remote.json().getAsJsonArray("tokens")));
    }
}
