package io.convllava.cli;

import io.convllava.common.cluster.EmbeddedZooKeeper;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.NodeStatus;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A whole cluster on this machine: an embedded ZooKeeper in this process, and every vision node, llm node and
 * the coordinator in a JVM of its own (the same launcher, another role). Closing it stops all of them.
 */
public final class LocalCluster implements AutoCloseable {

    /** What to start. {@code layers}: one entry per llm node, "auto" or "a-b". */
    public record Spec(String model, String hfCache, String visionTower, String device, int visionNodes,
                List<String> layers, int coordinatorPort, Path logDir, String nodeJavaOptions) {
    }

    private final Spec spec;
    private final PrintStream log;
    private final List<Process> processes = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private EmbeddedZooKeeper zookeeper;
    private int coordinatorPort;

    public LocalCluster(Spec spec, PrintStream log) {
        this.spec = spec;
        this.log = log;
    }

    /** Starts ZooKeeper and every node, and returns once the coordinator reports the model's layers covered. */
    public String start(Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(spec.logDir());
        zookeeper = EmbeddedZooKeeper.start(0);
        String zk = zookeeper.connectString();
        log.println("local: ZooKeeper at " + zk + ", node logs in " + spec.logDir());
        coordinatorPort = spec.coordinatorPort() > 0 ? spec.coordinatorPort() : freePort();
        for (int i = 0; i < spec.visionNodes(); i++) {
            spawn("vision-" + i, List.of("vision-node", "--zk", zk, "--port", "0"));
        }
        for (int i = 0; i < spec.layers().size(); i++) {
            spawn("llm-" + i, List.of("llm-node", "--zk", zk, "--port", "0", "--layers", spec.layers().get(i)));
        }
        spawn("coordinator", List.of("coordinator", "--zk", zk, "--port", String.valueOf(coordinatorPort)));
        String endpoint = "127.0.0.1:" + coordinatorPort;
        awaitReady(endpoint, timeout);
        return endpoint;
    }

    private void spawn(String name, List<String> roleArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(spec.nodeJavaOptions().trim().split("\\s+")));
        cmd.add("-Dai.djl.pytorch.num_threads=1");
        cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector")); // the decoder's kernels (Vector API)
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(roleArgs);
        cmd.addAll(List.of("--model", spec.model(), "--node-id", name));
        if (!roleArgs.get(0).equals("coordinator")) {
            cmd.addAll(List.of("--device", spec.device())); // the coordinator holds no weights
        }
        if (spec.hfCache() != null) {
            cmd.addAll(List.of("--hf-cache", spec.hfCache()));
        }
        if (spec.visionTower() != null) {
            cmd.addAll(List.of("--vision-tower", spec.visionTower()));
        }
        Path logFile = spec.logDir().resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(logFile.toFile())).start();
        processes.add(p);
        names.add(name);
    }

    private void awaitReady(String endpoint, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ManagedChannel channel = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
        String last = "coordinator not answering yet";
        try {
            ConvLlavaGrpc.ConvLlavaBlockingStub stub = ConvLlavaGrpc.newBlockingStub(channel);
            while (System.nanoTime() < deadline) {
                checkAlive();
                try {
                    ClusterStatus status = stub.withDeadlineAfter(2, TimeUnit.SECONDS)
                            .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
                    long vision = status.getNodesList().stream()
                            .filter(n -> n.getRole() == NodeStatus.Role.VISION).count();
                    if (status.getLayersCovered() && status.getPipelinesCount() > 0 && vision >= spec.visionNodes()) {
                        return;
                    }
                    last = "layers covered: " + status.getLayersCovered() + ", vision nodes " + vision + "/"
                            + spec.visionNodes();
                } catch (StatusRuntimeException e) {
                    last = "coordinator: " + e.getStatus();
                }
                Thread.sleep(250);
            }
        } finally {
            channel.shutdownNow();
        }
        throw new IOException("the local cluster was not ready within " + timeout.toSeconds() + " s (" + last
                + "); see the node logs in " + spec.logDir());
    }

    private void checkAlive() throws IOException {
        for (int i = 0; i < processes.size(); i++) {
            Process p = processes.get(i);
            if (!p.isAlive()) {
                Path logFile = spec.logDir().resolve(names.get(i) + ".log");
                List<String> lines = Files.readAllLines(logFile);
                String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
                throw new IOException(names.get(i) + " exited with code " + p.exitValue() + "; last lines of "
                        + logFile + ":\n" + tail);
            }
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroy();
        }
        for (int i = 0; i < processes.size(); i++) {
            try {
                if (!processes.get(i).waitFor(15, TimeUnit.SECONDS)) {
                    processes.get(i).destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                processes.get(i).destroyForcibly();
            }
        }
        processes.clear();
        if (zookeeper != null) {
            zookeeper.close();
            zookeeper = null;
        }
        log.println("local: every node stopped");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
