package io.convllava.tests;

import io.convllava.cli.LocalCluster;
import io.convllava.cli.Main;
import io.convllava.common.cluster.Zk;
import io.convllava.common.cluster.ZkLayout;
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
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * ZooKeeper trouble with every node in its own process, as {@code ./convllava local} runs them, against a real
 * ZooKeeper in this JVM (curator-test): ZooKeeper coming up after the nodes, unreachable for good, sessions expiring
 * mid-stream, and a 3-server ensemble losing its quorum mid-stream. A stream caught by the trouble must complete
 * with exactly the tokens of an uninterrupted run (seeded sampling, no prefix reuse); decode steps are slowed
 * ({@link FaultInjection#DECODE_STEP_DELAY}) so that the stream spans the outage. The session timeout is shortened
 * to {@value #SESSION_MS} ms ({@link Zk#SESSION_TIMEOUT_PROPERTY}), with a ZooKeeper tick short enough to grant it.
 * Each scenario prints its measured numbers (lines starting "zk-trouble:").
 */
class ZooKeeperTroubleProcessTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final int SESSION_MS = 2000;
    private static final int TICK_MS = 500;
    private static final long DECODE_STEP_DELAY_MS = 70;
    private static final int TOKENS = 60;
    /** The stream every scenario runs: the same request, so one uninterrupted run is the reference for all. */
    private static final GenerateRequest REQUEST = TimedRun.story(TINY.question(1) + " Zookeeper.", null, TOKENS, 21);
    private static final ZkLayout LAYOUT = new ZkLayout("default");

    /** The uninterrupted run of {@link #REQUEST}, made once on the first healthy cluster. */
    private static TimedRun reference;

    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();

    @Test
    void zooKeeperUnreachableAtStartUpFailsAfterRetrying() throws Exception {
        String where = "127.0.0.1:" + freePort();
        Path logs = Files.createTempDirectory("zk-unreachable");
        long start = System.nanoTime();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "vision-node",
                "--zk", where, "--zk-wait", "5s", "--port", "0", "--model", Fixtures.tinyModel().toString()));
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(logs.resolve("vision.log").toFile()).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the node gives up on its own");
        double ms = (System.nanoTime() - start) / 1e6;
        String out = Files.readString(logs.resolve("vision.log"));
        assertEquals(1, process.exitValue(), out);
        List<String> attempts = out.lines().filter(l -> l.startsWith("ZooKeeper at " + where + " not reachable"))
                .toList();
        assertTrue(attempts.size() >= 1, "a progress line per failed attempt, naming the address:\n" + out);
        // the first pause is 1 s, or what is left of --zk-wait when a loaded machine made the attempt slow
        assertTrue(attempts.get(0).contains("(attempt 1, ") && attempts.get(0).matches(".*retrying in (1s|\\d+ms)$"),
                attempts.get(0));
        assertTrue(out.contains("cannot reach ZooKeeper at " + where + ": gave up after " + (attempts.size() + 1)
                + " attempts in "), out);
        assertTrue(out.contains("start ZooKeeper there (./convllava zookeeper), check --zk, or wait longer with"
                + " --zk-wait"), out);
        System.out.printf("zk-trouble: ZooKeeper unreachable at start-up: %d attempts, the node exited with code 1"
                + " after %.0f ms (--zk-wait 5s)%n", attempts.size() + 1, ms);
    }

    /**
     * The nodes start before ZooKeeper and wait for it; then every session expires mid-stream (the server stopped
     * for twice the session timeout, then restarted on its port and data): the stream completes identical, every
     * node re-registers under its node id with a new session, and a new request is answered identically.
     */
    @Test
    void sessionsExpireMidStream() throws Exception {
        Path logs = Files.createTempDirectory("zk-expiry");
        InstanceSpec spec = new InstanceSpec(Files.createTempDirectory("zk-expiry-data").toFile(), freePort(), -1,
                -1, true, -1, TICK_MS, -1);
        try (TestingServer zk = new TestingServer(spec, false);
             LocalCluster cluster = new LocalCluster(spec(logs).withZooKeeper(spec.getConnectString()), log())) {
            CompletableFuture<String> started = CompletableFuture.supplyAsync(() -> {
                try {
                    return cluster.start(Duration.ofMinutes(4));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitEveryLog(logs, 4, " not reachable (attempt ");
            zk.start();
            long zkUp = System.nanoTime();
            String endpoint = started.get(4, TimeUnit.MINUTES);
            double readyMs = (System.nanoTime() - zkUp) / 1e6;
            for (Path log : logFiles(logs)) {
                assertTrue(Files.readString(log).contains("ZooKeeper at " + spec.getConnectString()
                        + " reached at attempt "), log + " says when it got through");
            }
            System.out.printf("zk-trouble: ZooKeeper started after the nodes: every node retried and joined; cluster"
                    + " ready %.0f ms after ZooKeeper came up%n", readyMs);

            ManagedChannel channel = Channels.forAddress(endpoint, TransportOptions.DEFAULTS);
            try {
                ConvLlavaGrpc.ConvLlavaBlockingStub client = ConvLlavaGrpc.newBlockingStub(channel);
                TimedRun uninterrupted = reference(client);
                Map<String, Long> before = sessions(spec.getConnectString());
                assertEquals(Set.of("vision-0", "llm-0", "llm-1"), Set.copyOf(nodeIds(before)), before.toString());
                awaitIdle(client);

                long[] marks = new long[2];
                Thread outage = new Thread(() -> {
                    try {
                        marks[0] = System.nanoTime();
                        zk.stop();
                        Thread.sleep(2L * SESSION_MS);
                        zk.restart();
                        marks[1] = System.nanoTime();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, "zk-outage");
                long streamStart = System.nanoTime();
                TimedRun failed = TimedRun.of(client, REQUEST, n -> {
                    if (n == 5) {
                        outage.start();
                    }
                });
                long streamEnd = System.nanoTime();
                outage.join();
                assertArrayEquals(uninterrupted.tokens(), failed.tokens(),
                        "session expiry: the stream differs from an uninterrupted run");

                Map<String, Long> after = awaitNewSessions(spec.getConnectString(), before);
                double reRegisteredMs = (System.nanoTime() - marks[1]) / 1e6;
                ClusterStatus status = awaitStatus(client, s -> allHealthy(s, before.keySet()));
                assertTrue(status.getLayersCovered() && status.getPipelinesCount() == 1, status.toString());
                double statusMs = (System.nanoTime() - marks[1]) / 1e6;

                double[] loadSeen = new double[1];
                TimedRun again = TimedRun.of(client, REQUEST, n -> {
                    if (n >= 20 && loadSeen[0] == 0) {
                        loadSeen[0] = status(client).getNodesList().stream()
                                .filter(node -> node.getRole() == NodeStatus.Role.LLM)
                                .mapToDouble(NodeStatus::getLoad).sum();
                    }
                });
                assertArrayEquals(uninterrupted.tokens(), again.tokens(),
                        "after the sessions expired: a new request differs from an uninterrupted run");
                assertTrue(loadSeen[0] > 0, "the llm nodes publish their load again after re-registering");
                System.out.printf("zk-trouble: session expiry: ZooKeeper down %.0f ms (session timeout %d ms) from"
                                + " %.0f ms into the stream; stream of %d tokens identical, ended %.0f ms %s"
                                + " ZooKeeper came back; longest gap between tokens %.0f ms (uninterrupted %.0f"
                                + " ms); every node re-registered with a new session under its id %.0f ms after the"
                                + " restart (sessions %s -> %s); coordinator status complete after %.0f ms; a new"
                                + " request identical%n",
                        (marks[1] - marks[0]) / 1e6, SESSION_MS, (marks[0] - streamStart) / 1e6,
                        failed.tokens().length, Math.abs(streamEnd - marks[1]) / 1e6,
                        streamEnd > marks[1] ? "after" : "before", failed.longestGapMs(),
                        uninterrupted.longestGapMs(), reRegisteredMs, hex(before), hex(after), statusMs);
            } finally {
                channel.shutdownNow();
            }
        }
    }

    /**
     * A 3-server ensemble loses two servers mid-stream: the stream completes identical and a new request is
     * answered identically on the last known plan while there is no quorum; once the servers are back, membership
     * changes resume: a new llm node joins, the plan leader plans it and the coordinator routes over it.
     */
    @Test
    void ensembleLosesQuorumMidStream() throws Exception {
        Path logs = Files.createTempDirectory("zk-quorum");
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            specs.add(new InstanceSpec(Files.createTempDirectory("zk-quorum-data").toFile(), freePort(), freePort(),
                    freePort(), true, i, TICK_MS, -1));
        }
        try (TestingCluster ensemble = new TestingCluster(specs)) {
            ensemble.start();
            try (LocalCluster cluster = new LocalCluster(spec(logs).withZooKeeper(ensemble.getConnectString()),
                    log())) {
                String endpoint = cluster.start(Duration.ofMinutes(4));
                ManagedChannel channel = Channels.forAddress(endpoint, TransportOptions.DEFAULTS);
                try {
                    quorumLoss(ensemble, specs, cluster, ConvLlavaGrpc.newBlockingStub(channel));
                } finally {
                    channel.shutdownNow();
                }
            }
        }
    }

    private void quorumLoss(TestingCluster ensemble, List<InstanceSpec> specs, LocalCluster cluster,
                            ConvLlavaGrpc.ConvLlavaBlockingStub client) throws Exception {
        TimedRun uninterrupted = reference(client);
        ClusterStatus healthy = status(client);
        Set<String> members = healthy.getNodesList().stream().map(NodeStatus::getId).collect(Collectors.toSet());
        awaitIdle(client);

        long[] killedAt = new long[1];
        Thread kill = new Thread(() -> {
            try {
                killedAt[0] = System.nanoTime();
                for (InstanceSpec s : specs.subList(0, 2)) {
                    assertTrue(ensemble.killServer(s));
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "zk-quorum-loss");
        long streamStart = System.nanoTime();
        TimedRun failed = TimedRun.of(client, REQUEST, n -> {
            if (n == 5) {
                kill.start();
            }
        });
        kill.join();
        assertArrayEquals(uninterrupted.tokens(), failed.tokens(),
                "quorum loss: the stream differs from an uninterrupted run");

        ClusterStatus stale = status(client);
        assertEquals(members, stale.getNodesList().stream().map(NodeStatus::getId).collect(Collectors.toSet()),
                "without quorum the coordinator keeps the last known members");
        assertEquals(healthy.getPipelinesList(), stale.getPipelinesList(), "and the last known pipelines");
        assertFalse(stale.getNodesList().stream().anyMatch(NodeStatus::getHealthy),
                "nodes are reported unhealthy while ZooKeeper cannot be reached: " + stale);
        TimedRun during = TimedRun.of(client, REQUEST);
        assertArrayEquals(uninterrupted.tokens(), during.tokens(),
                "without quorum: a new request differs from an uninterrupted run");
        double withoutQuorumMs = (System.nanoTime() - killedAt[0]) / 1e6;

        for (InstanceSpec s : specs.subList(0, 2)) {
            assertTrue(ensemble.restartServer(s));
        }
        long restartedAt = System.nanoTime();
        awaitStatus(client, s -> allHealthy(s, members));
        double backMs = (System.nanoTime() - restartedAt) / 1e6;

        String added = cluster.addLlmNode("0-4"); // a pipeline of its own: pipelines do not share nodes
        long addedAt = System.nanoTime();
        ClusterStatus joined = awaitStatus(client, s -> s.getPipelinesList().stream()
                .anyMatch(p -> p.getNodeIdsList().contains(added)) && allHealthy(s, members));
        double joinMs = (System.nanoTime() - addedAt) / 1e6;
        assertEquals(2, joined.getPipelinesCount(), joined.toString());
        // the leader plans after a settle delay, so the plan may follow the pipeline
        awaitStatus(client, s -> s.getPlanEpoch() > healthy.getPlanEpoch());
        double plannedMs = (System.nanoTime() - addedAt) / 1e6;
        System.out.printf("zk-trouble: quorum loss: 2 of 3 servers killed %.0f ms into the stream; stream of %d tokens"
                        + " identical, longest gap between tokens %.0f ms (uninterrupted %.0f ms); a new request"
                        + " without quorum identical (first token %.0f ms, uninterrupted %.0f ms); no quorum for"
                        + " %.0f ms (session timeout %d ms); every node healthy again %.0f ms after the restart;"
                        + " a new llm node (%s, layers 0-4) in a pipeline %.0f ms and in a new plan %.0f ms after"
                        + " it was started%n",
                (killedAt[0] - streamStart) / 1e6, failed.tokens().length, failed.longestGapMs(),
                uninterrupted.longestGapMs(), during.firstTokenMs(), uninterrupted.firstTokenMs(), withoutQuorumMs,
                SESSION_MS, backMs, added, joinMs, plannedMs);
    }

    private LocalCluster.Spec spec(Path logs) {
        return new LocalCluster.Spec(Fixtures.tinyModel().toString(), null, null, "cpu", 1, List.of("0-2", "2-4"), 0,
                logs, "-Xmx384m -D" + Zk.SESSION_TIMEOUT_PROPERTY + "=" + SESSION_MS + " -D"
                + FaultInjection.DECODE_STEP_DELAY + "=" + DECODE_STEP_DELAY_MS,
                List.of("--no-prefix-reuse"));
    }

    private PrintStream log() {
        return new PrintStream(logBytes, true, StandardCharsets.UTF_8);
    }

    private static synchronized TimedRun reference(ConvLlavaGrpc.ConvLlavaBlockingStub client) {
        if (reference == null) {
            reference = TimedRun.of(client, REQUEST);
            assertTrue(reference.tokens().length >= 30, "the reference run is long enough: "
                    + reference.tokens().length);
        }
        return reference;
    }

    /** Node id -> the session owning its member znode, coordinators left out (their ids are random). */
    private static Map<String, Long> sessions(String connectString) throws Exception {
        Map<String, Long> owners = new TreeMap<>();
        try (CuratorFramework zk = Zk.newClient(connectString, Duration.ofSeconds(10))) {
            for (String id : zk.getChildren().forPath(LAYOUT.members())) {
                Stat stat = zk.checkExists().forPath(LAYOUT.member(id));
                if (stat != null && !id.startsWith("coordinator")) {
                    owners.put(id, stat.getEphemeralOwner());
                }
            }
        }
        return owners;
    }

    /** Waits until every node of {@code before} is registered again, each by another session. */
    private Map<String, Long> awaitNewSessions(String connectString, Map<String, Long> before) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Map<String, Long> now = Map.of();
        while (System.nanoTime() < deadline) {
            now = sessions(connectString);
            Map<String, Long> current = now;
            if (current.keySet().equals(before.keySet())
                    && before.keySet().stream().allMatch(id -> !current.get(id).equals(before.get(id)))) {
                return now;
            }
            Thread.sleep(100);
        }
        fail("the nodes did not re-register with new sessions: before " + hex(before) + ", now " + hex(now) + "\n"
                + logBytes);
        return now;
    }

    private static List<String> nodeIds(Map<String, Long> sessions) {
        return List.copyOf(sessions.keySet());
    }

    private static String hex(Map<String, Long> sessions) {
        return sessions.entrySet().stream().map(e -> e.getKey() + "=" + Long.toHexString(e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
    }

    /** Every id of {@code ids} listed and healthy (the coordinator connected again), every layer covered. */
    private static boolean allHealthy(ClusterStatus status, Set<String> ids) {
        Set<String> healthy = status.getNodesList().stream().filter(NodeStatus::getHealthy).map(NodeStatus::getId)
                .collect(Collectors.toSet());
        return healthy.containsAll(ids) && status.getLayersCovered();
    }

    private ClusterStatus awaitStatus(ConvLlavaGrpc.ConvLlavaBlockingStub client, Predicate<ClusterStatus> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        ClusterStatus status = null;
        while (System.nanoTime() < deadline) {
            status = status(client);
            if (done.test(status)) {
                return status;
            }
            Thread.sleep(100);
        }
        fail("the cluster status did not come right: " + status + "\n" + logBytes);
        return status;
    }

    /** Waits until no node reports load left over from an earlier run (nodes report it every second). */
    private static void awaitIdle(ConvLlavaGrpc.ConvLlavaBlockingStub client) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (status(client).getNodesList().stream().anyMatch(n -> n.getHealthy() && n.getLoad() > 0)) {
            assertTrue(System.nanoTime() < deadline, "the cluster stays busy");
            Thread.sleep(100);
        }
    }

    private static ClusterStatus status(ConvLlavaGrpc.ConvLlavaBlockingStub client) {
        return client.withDeadlineAfter(5, TimeUnit.SECONDS)
                .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    }

    /** Waits until {@code count} node logs in {@code dir} contain {@code text}. */
    private static void awaitEveryLog(Path dir, int count, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            List<Path> files = logFiles(dir);
            long matching = 0;
            for (Path f : files) {
                if (Files.readString(f).contains(text)) {
                    matching++;
                }
            }
            if (matching >= count) {
                return;
            }
            Thread.sleep(100);
        }
        fail("not every node log in " + dir + " says '" + text + "'");
    }

    private static List<Path> logFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
