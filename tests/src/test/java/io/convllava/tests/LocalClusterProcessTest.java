package io.convllava.tests;

import com.google.gson.JsonObject;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.cli.LocalCluster;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's multi-process paths, as a user runs them: {@code local} (ZooKeeper + every node in its own JVM)
 * answered through {@code generate --target}, and {@code demo} end to end.
 */
class LocalClusterProcessTest {

    @Test
    void localClusterAnswersLikeTheReferenceAndReportsANodeThatDies(@TempDir Path logs) throws Exception {
        Reference ref = new Reference("tiny-convllava");
        LocalCluster.Spec spec = new LocalCluster.Spec(Fixtures.tinyModel().toString(), null, null, "cpu", 1,
                List.of("auto", "auto"), 0, logs, "-Xmx512m");
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        PrintStream logStream = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
        try (LocalCluster cluster = new LocalCluster(spec, logStream)) {
            String endpoint = cluster.start(Duration.ofMinutes(3));
            String log = logBytes.toString(StandardCharsets.UTF_8);
            assertTrue(log.contains("local: llm-0 ready") && log.contains("local: vision-0 ready"), log);

            String coordinatorId = coordinatorId(endpoint);
            assertTrue(log.contains("local: started " + coordinatorId + " (pid"), coordinatorId + " in\n" + log);

            JsonObject out = CliRun.of("generate", "--target", endpoint, "--image", ref.image().toString(),
                    "--prompt", ref.question(0), "--max-new-tokens", "12", "--json").json();
            assertArrayEquals(Reference.ints(ref.testCase(0).getAsJsonArray("input_ids")),
                    Reference.ints(out.getAsJsonArray("input_ids")));
            ref.assertGreedyPrefix(0, Reference.ints(out.getAsJsonArray("tokens")));

            CliRun status = CliRun.of("status", "--target", endpoint);
            assertEquals(0, status.exitCode, status.err);
            assertTrue(status.out.contains("llm-0") && status.out.contains("llm-1") && status.out.contains("vision-0"),
                    status.out);

            // the nodes hold a fresh credential of the embedded ZooKeeper, readable by this user only
            Path authFile = logs.resolve("zk-auth");
            assertEquals(authFile, cluster.zkAuthFile());
            assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(authFile));
            assertTrue(log.contains("local: ZooKeeper at " + cluster.zkConnect() + " (credential in " + authFile
                    + ")"), log);
            CliRun fromZooKeeper = CliRun.of("status", "--zk", cluster.zkConnect(), "--zk-auth-file",
                    authFile.toString());
            assertEquals(0, fromZooKeeper.exitCode, fromZooKeeper.err);
            assertTrue(fromZooKeeper.out.contains("llm-0") && fromZooKeeper.out.contains("vision-0"),
                    fromZooKeeper.out);
            CliRun anonymous = CliRun.of("status", "--zk", cluster.zkConnect());
            assertEquals(1, anonymous.exitCode, anonymous.out);
            assertTrue(anonymous.err.contains("the cluster is protected"), anonymous.err);
            assertFalse(Files.readString(logs.resolve("llm-0.log")).contains("warning: no --zk-auth-file"));

            Matcher started = Pattern.compile("local: started llm-1 \\(pid (\\d+)").matcher(log);
            assertTrue(started.find(), log);
            ProcessHandle.of(Long.parseLong(started.group(1))).orElseThrow().destroyForcibly();
            assertTrue(eventually(() -> logBytes.toString(StandardCharsets.UTF_8)
                    .contains("local: llm-1 exited unexpectedly with code 137")), logBytes.toString());
        }
        String log = logBytes.toString(StandardCharsets.UTF_8);
        assertEquals(1, log.split("exited unexpectedly", -1).length - 1, "only llm-1's death is reported:\n" + log);
        assertTrue(log.endsWith("local: every node stopped\n"), log);
    }

    /** {@code convllava local} killed with SIGKILL (no shutdown hook runs): every node it started stops by itself. */
    @Test
    void nodesStopWhenTheirLauncherIsKilled(@TempDir Path logs) throws Exception {
        Path out = logs.resolve("launcher.out");
        Process launcher = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                io.convllava.cli.Main.class.getName(), "local", "--model", Fixtures.tinyModel().toString(),
                "--vision-nodes", "0", "--llm-nodes", "1", "--port", "0", "--log-dir", logs.toString(),
                "--node-java-opts", "-Xmx384m")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertTrue(eventually(() -> read(out).contains("cluster ready"), 180), read(out));
            List<ProcessHandle> nodes = launcher.descendants().toList();
            assertEquals(2, nodes.size(), "an llm node and a coordinator: " + nodes);
            launcher.destroyForcibly().waitFor();
            long killed = System.nanoTime();
            assertTrue(eventually(() -> nodes.stream().noneMatch(ProcessHandle::isAlive), 20),
                    "nodes still running: " + nodes.stream().filter(ProcessHandle::isAlive).toList());
            System.out.printf("launcher killed: its %d nodes stopped within %.1f s%n", nodes.size(),
                    (System.nanoTime() - killed) / 1e9);
        } finally {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void aCoordinatorPortInUseFailsBeforeStartingAnything(@TempDir Path logs) throws Exception {
        Set<ProcessHandle> childrenBefore = ProcessHandle.current().children().collect(Collectors.toSet());
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        try (ServerSocket other = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             LocalCluster cluster = new LocalCluster(new LocalCluster.Spec(Fixtures.tinyModel().toString(), null,
                     null, "cpu", 1, List.of("auto"), other.getLocalPort(), logs, "-Xmx512m"),
                     new PrintStream(logBytes, true, StandardCharsets.UTF_8))) {
            IOException e = assertThrows(IOException.class, () -> cluster.start(Duration.ofMinutes(1)));
            assertTrue(e.getMessage().contains("port " + other.getLocalPort() + " on 127.0.0.1 is already in use"),
                    e.getMessage());
        }
        assertEquals("", logBytes.toString(StandardCharsets.UTF_8), "nothing was started");
        assertEquals(childrenBefore, ProcessHandle.current().children().collect(Collectors.toSet()),
                "no node process");
    }

    @Test
    void demoAnswersDrawsTheBoxAndStops(@TempDir Path out) throws Exception {
        CliRun demo = CliRun.of("demo", "--model", Fixtures.shapesModel().toString(), "--out", out.toString());
        assertEquals(0, demo.exitCode, demo.out + demo.err);
        assertTrue(demo.out.contains("A: Three."), demo.out); // samples.json: sample-count-0 -> "Three."
        assertTrue(demo.out.contains("[0.69, 0.40, 0.90, 0.66]"), demo.out);
        assertTrue(Files.size(out.resolve("sample-ground-1-box.png")) > 0);
        assertTrue(demo.out.contains("demo: stopping the cluster"), demo.out);
    }

    /** The node id the coordinator at {@code endpoint} answers with. */
    private static String coordinatorId(String endpoint) {
        ManagedChannel channel = Channels.forAddress(endpoint, TransportOptions.DEFAULTS);
        try {
            return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getClusterStatus(GetClusterStatusRequest.getDefaultInstance()).getCoordinatorId();
        } finally {
            channel.shutdownNow();
        }
    }

    private static boolean eventually(BooleanSupplier condition) throws InterruptedException {
        return eventually(condition, 10);
    }

    private static boolean eventually(BooleanSupplier condition, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }
}
