package io.convllava.tests;

import io.convllava.cli.LocalCluster;
import io.convllava.common.node.FaultInjection;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.NodeStatus;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * SIGKILL of a node in the middle of a request, with every node in its own process and a real ZooKeeper, as
 * {@code ./convllava local --vision-nodes 2 --layers 0-2,2-4,0-2,2-4} runs them: the stream completes with exactly
 * the tokens of an uninterrupted run (seeded sampling, so that it runs long; without prefix reuse, which changes
 * sampled answers by itself). After each kill a replacement llm node
 * joins, so that every scenario starts with two pipelines. Prompt steps and encodes are slowed down
 * ({@link FaultInjection}) so that a kill lands inside them. Each scenario prints its recovery time: the longest gap
 * between two tokens (or, for a kill before the first token, the time to it) against the uninterrupted run's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FailoverProcessTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final long PROMPT_STEP_DELAY_MS = 1500;
    private static final long ENCODE_DELAY_MS = 2500;

    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private LocalCluster cluster;
    private ManagedChannel channel;
    private ConvLlavaGrpc.ConvLlavaBlockingStub client;
    private Path logs;

    @BeforeAll
    void startCluster() throws Exception {
        logs = Files.createTempDirectory("failover-test");
        cluster = new LocalCluster(new LocalCluster.Spec(Fixtures.tinyModel().toString(), null, null, "cpu", 2,
                List.of("0-2", "2-4", "0-2", "2-4"), 0, logs, "-Xmx384m -D" + FaultInjection.PROMPT_STEP_DELAY + "="
                + PROMPT_STEP_DELAY_MS + " -D" + FaultInjection.ENCODE_DELAY + "=" + ENCODE_DELAY_MS,
                List.of("--no-prefix-reuse")),
                new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        String endpoint = cluster.start(Duration.ofMinutes(4));
        channel = Channels.forAddress(endpoint, TransportOptions.DEFAULTS);
        client = ConvLlavaGrpc.newBlockingStub(channel);
    }

    @AfterAll
    void stopCluster() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void llmNodeKilledMidStream() throws Exception {
        GenerateRequest request = story(TINY.question(1) + " Once.", null, 7);
        TimedRun failed = runKillingAtToken(request, 20, "2-4");
        report("llm node killed mid-stream", run(request, k -> { }), failed);
    }

    @Test
    void llmNodeKilledAtTheFirstToken() throws Exception {
        GenerateRequest request = story(TINY.question(1) + " Twice.", null, 8);
        TimedRun failed = runKillingAtToken(request, 1, "0-2");
        report("llm node killed at the first token", run(request, k -> { }), failed);
    }

    @Test
    void llmNodeKilledDuringPrefill() throws Exception {
        GenerateRequest request = story(TINY.question(1) + " Thrice.", null, 9);
        TimedRun failed = runKillingMeanwhile(request, () -> {
            String node = serving("0-2"); // routed at once: its prompt step now waits PROMPT_STEP_DELAY_MS
            sleep(PROMPT_STEP_DELAY_MS / 3);
            return kill(node);
        });
        report("llm node killed during prefill", run(request, k -> { }), failed);
    }

    @Test
    void visionNodeKilledDuringEncode() throws Exception {
        GenerateRequest request = story(TINY.question(0), Files.readAllBytes(TINY.image()), 10);
        TimedRun failed = runKillingMeanwhile(request, () -> {
            String node = serving(null);
            sleep(ENCODE_DELAY_MS / 3);
            return kill(node);
        });
        report("vision node killed during an encode", run(request, k -> { }), failed);
    }

    /** {@link TimedRun#story} of 60 tokens. */
    private static GenerateRequest story(String question, byte[] image, long seed) {
        return TimedRun.story(question, image, 60, seed);
    }

    private TimedRun run(GenerateRequest request, IntConsumer afterToken) {
        return TimedRun.of(client, request, afterToken);
    }

    /**
     * {@link #run} that kills the llm node with layers {@code range} serving it once {@code atToken} tokens arrived;
     * then a replacement joins. Runs before the uninterrupted one: a kept prompt cache would shorten its prefill.
     */
    private TimedRun runKillingAtToken(GenerateRequest request, int atToken, String range) {
        awaitIdle();
        String[] killed = new String[1];
        TimedRun run = run(request, tokens -> {
            if (tokens == atToken) {
                killed[0] = kill(serving(range));
            }
        });
        replace(killed[0]);
        return run;
    }

    /** {@link #run} while another thread kills a node; then a replacement of that node joins. */
    private TimedRun runKillingMeanwhile(GenerateRequest request, KillAction kill) throws Exception {
        awaitIdle();
        String[] killed = new String[1];
        Throwable[] failure = new Throwable[1];
        Thread killer = new Thread(() -> {
            try {
                killed[0] = kill.run();
            } catch (Throwable t) {
                failure[0] = t;
            }
        });
        killer.start();
        TimedRun run = run(request, k -> { });
        killer.join();
        if (failure[0] != null) {
            throw new AssertionError("killing a node failed", failure[0]);
        }
        replace(killed[0]);
        return run;
    }

    /** Waits until no node reports load left over from an earlier run (nodes report it every second). */
    private void awaitIdle() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (status().getNodesList().stream().anyMatch(n -> n.getHealthy() && n.getLoad() > 0)) {
            if (System.nanoTime() > deadline) {
                fail("the cluster stays busy: " + status());
            }
            sleep(100);
        }
    }

    /** The llm node with layers {@code range} (the vision node where null) that has a call of ours in flight. */
    private String serving(String range) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            for (NodeStatus node : status().getNodesList()) {
                boolean candidate = range == null ? node.getRole() == NodeStatus.Role.VISION
                        : node.getRole() == NodeStatus.Role.LLM && node.hasLayers()
                        && (node.getLayers().getStart() + "-" + node.getLayers().getEnd()).equals(range);
                if (candidate && node.getHealthy() && node.getLoad() > 0) {
                    return node.getId();
                }
            }
            sleep(20);
        }
        throw new AssertionError("no " + (range == null ? "vision" : range) + " node is busy: " + status());
    }

    private String kill(String node) {
        long pid = Optional.ofNullable(cluster.pids().get(node)).orElseThrow(() -> new AssertionError(node));
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError(node + " is not running"));
        process.destroyForcibly();
        process.onExit().join();
        return node;
    }

    /**
     * Starts an llm node with the killed one's layers and waits until it is part of a pipeline (vision: none); the
     * coordinator's status leaves the dead node out of its pipelines at once, ZooKeeper only at its session timeout.
     */
    private void replace(String killed) {
        if (killed.startsWith("vision")) {
            return; // one vision node is enough for what follows
        }
        NodeStatus old = status().getNodesList().stream().filter(n -> n.getId().equals(killed)).findFirst()
                .orElseThrow();
        String name;
        try {
            name = cluster.addLlmNode(old.getLayers().getStart() + "-" + old.getLayers().getEnd());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (status().getPipelinesList().stream().anyMatch(p -> p.getNodeIdsList().contains(name))) {
                return;
            }
            sleep(100);
        }
        fail(name + " did not join a pipeline: " + status() + "\n" + logBytes);
    }

    private ClusterStatus status() {
        return client.withDeadlineAfter(5, TimeUnit.SECONDS)
                .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    }

    private static void report(String scenario, TimedRun reference, TimedRun failed) {
        assertTrue(reference.tokens().length >= 30, "the reference run is long enough: " + reference.tokens().length);
        assertArrayEquals(reference.tokens(), failed.tokens(),
                scenario + ": the stream differs from an uninterrupted run");
        System.out.printf("failover: %s: %d tokens identical; first token %.0f ms (uninterrupted %.0f ms), longest"
                        + " gap between tokens %.0f ms (uninterrupted %.0f ms)%n", scenario, failed.tokens().length,
                failed.firstTokenMs(), reference.firstTokenMs(), failed.longestGapMs(), reference.longestGapMs());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @FunctionalInterface
    private interface KillAction {
        String run() throws Exception;
    }
}
