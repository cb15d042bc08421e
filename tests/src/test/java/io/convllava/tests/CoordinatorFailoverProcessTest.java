package io.convllava.tests;

import io.convllava.cli.LocalCluster;
import io.convllava.common.client.CoordinatorFailover;
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
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two coordinators over one set of nodes, each its own process, with a real ZooKeeper: either answers any request
 * with the same tokens; SIGKILL of the plan leader in the middle of a stream: the client ({@link CoordinatorFailover})
 * retries on the other coordinator and its stream goes on unchanged, a stream on the other coordinator is not
 * disturbed, the llm nodes free the dead coordinator's session, and the other coordinator takes over the plan (a node
 * that joins afterwards is given layers).
 */
class CoordinatorFailoverProcessTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final Pattern BECAME_LEADER = Pattern.compile("(\\S+): became plan leader");

    @Test
    void thePlanLeaderKilledMidStream() throws Exception {
        Path logs = Files.createTempDirectory("coordinator-failover");
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        LocalCluster.Spec spec = new LocalCluster.Spec(Fixtures.tinyModel().toString(), null, null, "cpu", 0,
                List.of("0-2", "2-4"), 0, logs, "-Xmx384m", List.of("--no-prefix-reuse"));
        List<ManagedChannel> channels = new ArrayList<>();
        try (LocalCluster cluster = new LocalCluster(spec, new PrintStream(logBytes, true, StandardCharsets.UTF_8))) {
            String first = cluster.start(Duration.ofMinutes(3));
            String second = cluster.addCoordinator(Duration.ofMinutes(2));
            ManagedChannel a = Channels.forAddress(first, TransportOptions.DEFAULTS);
            ManagedChannel b = Channels.forAddress(second, TransportOptions.DEFAULTS);
            channels.addAll(List.of(a, b));
            TestCluster.await(() -> covered(b), Duration.ofSeconds(90),
                    "the second coordinator to see the layers covered");

            Leader lead = planLeader(cluster, logs);
            String leaderName = lead.name();
            boolean firstLeads = lead.address().endsWith(":" + first.substring(first.lastIndexOf(':') + 1));
            ManagedChannel leader = firstLeads ? a : b;
            ManagedChannel follower = firstLeads ? b : a;

            // sampled at temperature 1 so that it runs its full length instead of stopping at an early EOS
            GenerateRequest request = Streams.request(TINY.question(1), null, 80, false).toBuilder()
                    .setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(11)).build();
            int[] reference = Streams.collect(stub(follower).generate(request)).tokens();
            assertTrue(reference.length >= 40, "the reference run is long enough: " + reference.length);
            assertArrayEquals(reference, Streams.collect(stub(leader).generate(request)).tokens(),
                    "both coordinators answer with the same tokens");

            CompletableFuture<int[]> undisturbed = CompletableFuture.supplyAsync(
                    () -> Streams.collect(stub(follower).generate(request)).tokens());
            List<Integer> tokens = new ArrayList<>();
            List<String> retries = new ArrayList<>();
            long[] killedAt = new long[1];
            long[] resumedAt = new long[1];
            new CoordinatorFailover(List.of(leader, follower), Duration.ofMinutes(2), retries::add)
                    .generate(request, delta -> {
                        if (killedAt[0] != 0 && resumedAt[0] == 0) {
                            resumedAt[0] = System.nanoTime();
                        }
                        tokens.addAll(delta.getTokenIdsList());
                        if (tokens.size() >= 20 && killedAt[0] == 0) {
                            kill(cluster, leaderName);
                            killedAt[0] = System.nanoTime();
                        }
                    });
            assertArrayEquals(reference, tokens.stream().mapToInt(Integer::intValue).toArray(),
                    "the retried stream goes on with the tokens of an uninterrupted run");
            assertEquals(1, retries.size(), "one retry: " + retries);
            assertArrayEquals(reference, undisturbed.get(2, TimeUnit.MINUTES),
                    "a stream on the other coordinator is not disturbed");
            System.out.printf("coordinator failover: plan leader killed after 20 tokens; the stream resumed on the"
                    + " other coordinator after %.0f ms, %d tokens identical%n",
                    (resumedAt[0] - killedAt[0]) / 1e6, tokens.size());

            // between two steps no call is in flight to cancel: the nodes free the session once the dead coordinator
            // leaves the cluster (its ZooKeeper session times out, 15 s) and stays gone (3 s)
            long freeing = System.nanoTime();
            TestCluster.await(() -> llmNodes(follower).stream().allMatch(n -> n.getLoad() == 0),
                    Duration.ofSeconds(40), "the llm nodes to free the dead coordinator's session");
            System.out.printf("coordinator failover: the llm nodes held no session %.1f s after the kill%n",
                    (System.nanoTime() - freeing) / 1e9 + (freeing - killedAt[0]) / 1e9);

            long epochBefore = status(follower).getPlanEpoch();
            String joined = cluster.addLlmNode("auto");
            long started = System.nanoTime();
            TestCluster.await(() -> llmNodes(follower).stream()
                            .anyMatch(n -> n.getId().equals(joined) && n.hasLayers()),
                    Duration.ofSeconds(90), "the surviving coordinator to lead the plan and give " + joined + " layers");
            System.out.printf("coordinator failover: %s got layers from the new plan leader %.1f s after it started%n",
                    joined, (System.nanoTime() - started) / 1e9);
            assertTrue(status(follower).getPlanEpoch() > epochBefore, "the new leader wrote a newer plan");
            assertArrayEquals(reference, Streams.collect(stub(follower).generate(request)).tokens(),
                    "still the same answer");
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(e.getMessage() + "\ncluster log:\n" + logBytes, e);
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }

    /** A coordinator process and the address it leads the plan as. */
    private record Leader(String name, String address) {
    }

    /** The coordinator whose log says it became the plan leader. */
    private static Leader planLeader(LocalCluster cluster, Path logs) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (String name : cluster.pids().keySet()) {
                Path log = logs.resolve(name + ".log");
                Matcher m = BECAME_LEADER.matcher(name.startsWith("coordinator-") && Files.exists(log)
                        ? Files.readString(log) : "");
                if (m.find()) {
                    return new Leader(name, m.group(1));
                }
            }
            sleep(100);
        }
        throw new AssertionError("no coordinator became plan leader");
    }

    private static void kill(LocalCluster cluster, String name) {
        Map<String, Long> pids = cluster.pids();
        ProcessHandle process = ProcessHandle.of(pids.get(name)).orElseThrow(() -> new AssertionError(name));
        process.destroyForcibly();
        process.onExit().join();
    }

    private static ConvLlavaGrpc.ConvLlavaBlockingStub stub(ManagedChannel channel) {
        return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
    }

    private static ClusterStatus status(ManagedChannel channel) {
        return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    }

    private static boolean covered(ManagedChannel channel) {
        try {
            return status(channel).getLayersCovered();
        } catch (RuntimeException e) {
            return false; // not answering yet
        }
    }

    private static List<NodeStatus> llmNodes(ManagedChannel channel) {
        return status(channel).getNodesList().stream().filter(n -> n.getRole() == NodeStatus.Role.LLM).toList();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
