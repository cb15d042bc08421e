package io.convllava.tests;

import io.convllava.cli.LocalCluster;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.NodeStatus;
import io.convllava.proto.v1.SamplingOptions;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A range move under load, every node its own process, with a real ZooKeeper: llm nodes {@code 0-2, 2-4, auto,
 * auto}, planned together; the plan gives the auto nodes 0-2 and 2-4. While four streams run, both nodes holding 2-4
 * are SIGKILLed: no pipeline is left, the plan leader moves the auto node from 0-2 to 2-4 (make-before-break), and
 * every stream completes with exactly the tokens of an uninterrupted run.
 */
class RangeMoveProcessTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final int STREAMS = 4;
    private static final int TOKENS_BEFORE_THE_KILL = 10;

    @Test
    void streamsOutliveTheLossOfALayerRangeAndTheMoveThatRestoresIt() throws Exception {
        Path logs = Files.createTempDirectory("range-move");
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        LocalCluster.Spec spec = new LocalCluster.Spec(Fixtures.tinyModel().toString(), null, null, "cpu", 0,
                List.of("0-2", "2-4", "auto", "auto"), 0, logs, "-Xmx384m",
                // the four nodes are planned together: the auto ones then form a second pipeline, 0-2 and 2-4
                List.of("--no-prefix-reuse", "--plan-settle-ms", "5000"));
        ManagedChannel channel = null;
        try (LocalCluster cluster = new LocalCluster(spec, new PrintStream(logBytes, true, StandardCharsets.UTF_8))) {
            channel = Channels.forAddress(cluster.start(Duration.ofMinutes(3)), TransportOptions.DEFAULTS);
            ManagedChannel coordinator = channel;
            awaitStatus(coordinator, s -> s.getPipelinesCount() == 2, "two pipelines");
            String mover = llmNodes(coordinator).stream().filter(n -> n.getId().matches("llm-[23]")
                    && range(n).equals("0-2")).map(NodeStatus::getId).findFirst()
                    .orElseThrow(() -> new AssertionError("no auto node holds 0-2: " + status(coordinator)));

            List<GenerateRequest> requests = new ArrayList<>();
            List<int[]> uninterrupted = new ArrayList<>();
            for (int i = 0; i < STREAMS; i++) {
                // sampled at temperature 1 so that each runs its full length instead of stopping at an early EOS
                GenerateRequest request = Streams.request(TINY.question(1), null, 200, false).toBuilder()
                        .setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(200 + i)).build();
                requests.add(request);
                uninterrupted.add(Streams.collect(stub(coordinator).generate(request)).tokens());
            }

            ExecutorService clients = Executors.newFixedThreadPool(STREAMS);
            CountDownLatch underWay = new CountDownLatch(STREAMS);
            List<Future<int[]>> answers = new ArrayList<>();
            for (GenerateRequest request : requests) {
                answers.add(clients.submit(() -> Streams.collectSignalling(stub(coordinator).generate(request),
                        TOKENS_BEFORE_THE_KILL, underWay)));
            }
            assertTrue(underWay.await(60, TimeUnit.SECONDS), "every stream under way");
            long killed = System.nanoTime();
            for (NodeStatus node : llmNodes(coordinator)) {
                if (range(node).equals("2-4")) {
                    ProcessHandle.of(cluster.pids().get(node.getId())).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            for (int i = 0; i < STREAMS; i++) {
                assertArrayEquals(uninterrupted.get(i), answers.get(i).get(3, TimeUnit.MINUTES),
                        "stream " + i + " has the tokens of an uninterrupted run");
            }
            System.out.printf("range move under load (processes): %d streams complete and unchanged %.1f s after"
                    + " both 2-4 nodes were killed%n", STREAMS, (System.nanoTime() - killed) / 1e9);
            clients.shutdown();
            assertEquals("2-4", range(llmNodes(coordinator).stream().filter(n -> n.getId().equals(mover))
                    .findFirst().orElseThrow()), mover + " moved to the missing layers");
            String moverLog = Files.readString(logs.resolve(mover + ".log"));
            assertTrue(moverLog.contains("serving 0-2 while 2-4 loads") && moverLog.contains("serving layers 2-4;")
                    && moverLog.contains("layers 0-2 drained and freed"), "make-before-break in " + mover + "'s log");
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(e.getMessage() + "\ncluster log:\n" + logBytes, e);
        } finally {
            if (channel != null) {
                channel.shutdownNow();
            }
        }
    }

    private static String range(NodeStatus node) {
        return node.hasLayers() ? node.getLayers().getStart() + "-" + node.getLayers().getEnd() : "none";
    }

    private static List<NodeStatus> llmNodes(ManagedChannel channel) {
        return status(channel).getNodesList().stream().filter(n -> n.getRole() == NodeStatus.Role.LLM).toList();
    }

    private static ConvLlavaGrpc.ConvLlavaBlockingStub stub(ManagedChannel channel) {
        return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(3, TimeUnit.MINUTES);
    }

    private static ClusterStatus status(ManagedChannel channel) {
        return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    }

    private static void awaitStatus(ManagedChannel channel, java.util.function.Predicate<ClusterStatus> condition,
                                    String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.test(status(channel))) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what + ": " + status(channel));
            }
            Thread.sleep(100);
        }
    }
}
