package io.convllava.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.sun.management.HotSpotDiagnosticMXBean;
import io.convllava.common.cluster.EmbeddedZooKeeper;
import io.convllava.common.node.ParentWatch;
import io.convllava.common.transport.BearerTokens;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.NodeStatus;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A whole cluster on this machine: an embedded ZooKeeper in this process (or an external ensemble), and every vision
 * node, llm node and the coordinator in a JVM of its own (the same launcher, another role). Start-up reports its
 * progress on the log stream and fails as soon as a node exits; once started, a node that exits is reported there.
 * Closing it stops all of them.
 */
public final class LocalCluster implements AutoCloseable {
    private static final long PROGRESS_EVERY_NANOS = TimeUnit.SECONDS.toNanos(3);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final int TAIL_LINES = 20;
    private static final Pattern READY_AT = Pattern.compile(" ready at \\S*:(\\d+)\\b");
    /** The coordinator's ready line ends "; HTTP API at http://host:port/v1" when it serves HTTP too. */
    private static final Pattern HTTP_AT = Pattern.compile("; HTTP API at https?://\\S*:(\\d+)/v1");
    /** In the log folder: the credential of the cluster on the embedded ZooKeeper. */
    static final String ZK_AUTH_FILE = "zk-auth";
    /**
     * JVM options of an llm node, before the cluster's node options (which come later and win): its heap is nearly
     * all 16-bit weights that live as long as the process, so a serial collector with a small young generation that
     * compacts fully (no dead space left behind) and shrinks the heap to what is live after each full collection,
     * Netty without pooled direct arenas, and malloc's free memory handed back every 2 s (where this JVM has
     * TrimNativeHeapInterval: 17.0.9 on) keep the process close to its weights (docs/benchmarks.md, "Resident memory
     * of the nodes"). The collector is left out when the node options name one. bin/convllava gives
     * {@code convllava llm-node} the same.
     */
    static final List<String> LLM_NODE_JAVA_OPTIONS = llmNodeJavaOptions();

    /**
     * What to start. {@code layers}: one entry per llm node, "auto" or "a-b"; {@code coordinatorOptions}: extra
     * flags of the coordinator (e.g. {@code --max-concurrent 32}); {@code metricsPort}: 0 = no metrics endpoints,
     * else the coordinator's, the other nodes' following it; {@code logFormat}: the nodes' {@code --log-format}.
     */
    public record Spec(String model, String hfCache, String visionTower, String device, int visionNodes,
                List<String> layers, int coordinatorPort, Path logDir, String nodeJavaOptions,
                List<String> coordinatorOptions, String zookeeper, int metricsPort, String logFormat) {

        public Spec {
            coordinatorOptions = List.copyOf(coordinatorOptions);
        }

        /** ZooKeeper embedded in this process. */
        public Spec(String model, String hfCache, String visionTower, String device, int visionNodes,
                    List<String> layers, int coordinatorPort, Path logDir, String nodeJavaOptions,
                    List<String> coordinatorOptions) {
            this(model, hfCache, visionTower, device, visionNodes, layers, coordinatorPort, logDir, nodeJavaOptions,
                    coordinatorOptions, null, 0, "text");
        }

        /** The nodes join the ZooKeeper ensemble at {@code connectString} instead of an embedded one. */
        public Spec withZooKeeper(String connectString) {
            return new Spec(model, hfCache, visionTower, device, visionNodes, layers, coordinatorPort, logDir,
                    nodeJavaOptions, coordinatorOptions, connectString, metricsPort, logFormat);
        }

        /** The coordinator serves metrics on {@code port}, the other nodes on the ports after it; 0 = none. */
        public Spec withMetricsPort(int port) {
            return new Spec(model, hfCache, visionTower, device, visionNodes, layers, coordinatorPort, logDir,
                    nodeJavaOptions, coordinatorOptions, zookeeper, port, logFormat);
        }

        /** Every node logs in {@code format} ("text" or "json"). */
        public Spec withLogFormat(String format) {
            return new Spec(model, hfCache, visionTower, device, visionNodes, layers, coordinatorPort, logDir,
                    nodeJavaOptions, coordinatorOptions, zookeeper, metricsPort, format);
        }

        /** The coordinator with its default flags. */
        public Spec(String model, String hfCache, String visionTower, String device, int visionNodes,
                    List<String> layers, int coordinatorPort, Path logDir, String nodeJavaOptions) {
            this(model, hfCache, visionTower, device, visionNodes, layers, coordinatorPort, logDir, nodeJavaOptions,
                    List.of());
        }
    }

    private final Spec spec;
    private final PrintStream log;
    /** Unique to this launch, so that readiness is only taken from this cluster's own coordinator. */
    private final String coordinatorId =
            String.format("coordinator-%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    /** Added to only by the starting thread, under this object's lock, which {@link #close()} takes too. */
    private final List<Node> nodes = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Metrics endpoint by node name, in start order (empty without metrics). */
    private final Map<String, String> metrics = new LinkedHashMap<>();
    /** The next node's metrics port (the coordinator's is the spec's). */
    private int nextMetricsPort;
    /** Null when the spec names an external ensemble. */
    private volatile EmbeddedZooKeeper zookeeper;
    private volatile String zkConnect;
    /** The credential of the embedded ZooKeeper's cluster; null with an external ensemble. */
    private volatile Path zkAuthFile;

    public LocalCluster(Spec spec, PrintStream log) {
        this.spec = spec;
        this.log = log;
    }

    /**
     * Starts ZooKeeper and every node, and returns the coordinator's endpoint once every node says it is ready and
     * this cluster's coordinator reports the model's layers covered.
     */
    public String start(Duration timeout) throws IOException, InterruptedException {
        if (spec.coordinatorPort() > 0) {
            requireFree(spec.coordinatorPort(), "--port");
        }
        Files.createDirectories(spec.logDir());
        if (spec.zookeeper() == null) {
            zkAuthFile = writeCredential(spec.logDir().resolve(ZK_AUTH_FILE));
            zookeeper = EmbeddedZooKeeper.start(0);
            zkConnect = zookeeper.connectString();
        } else {
            zkConnect = spec.zookeeper();
        }
        String zk = zkConnect;
        log.println("local: ZooKeeper at " + zk + (zkAuthFile == null ? "" : " (credential in " + zkAuthFile + ")")
                + ", node logs in " + spec.logDir());
        for (int i = 0; i < spec.visionNodes(); i++) {
            spawn("vision-" + i, List.of("vision-node", "--zk", zk, "--port", "0"));
        }
        for (int i = 0; i < spec.layers().size(); i++) {
            spawnLlmNode("llm-" + i, spec.layers().get(i));
        }
        // with port 0 the coordinator binds a free port itself and tells it: a port picked here and released could be
        // taken by another node's port 0 before the coordinator binds it
        List<String> coordinator = new ArrayList<>(List.of("coordinator", "--zk", zk, "--port",
                String.valueOf(spec.coordinatorPort())));
        coordinator.addAll(spec.coordinatorOptions());
        spawn(coordinatorId, coordinator);
        String endpoint = awaitReady(nodes.get(nodes.size() - 1), timeout);
        nodes.forEach(this::reportExit);
        return endpoint;
    }

    /**
     * The HTTP port of this cluster's first coordinator, once it serves (its ready line names it: given port 0, it
     * binds a free one itself); empty when it has no HTTP API or is not ready.
     */
    public synchronized OptionalInt httpPort() {
        return nodes.stream().filter(n -> n.name.equals(coordinatorId)).findFirst().map(Node::httpPort)
                .orElse(OptionalInt.empty());
    }

    /** What to tell once the cluster is ready: its coordinator's endpoint is given. */
    public interface ReadyListener {
        void ready(String endpoint) throws IOException;
    }

    /**
     * Starts the cluster, tells {@code ready}, then serves until this JVM is stopped (Ctrl-C, SIGTERM), whose shutdown
     * hook ({@code hookName}) stops every node; a start that fails stops them at once.
     */
    public void runUntilStopped(Duration timeout, String hookName, ReadyListener ready) throws Exception {
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            close();
            stopped.countDown();
        }, hookName);
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            ready.ready(start(timeout));
            stopped.await();
        } catch (Exception e) {
            Runtime.getRuntime().removeShutdownHook(hook);
            close();
            throw e;
        }
    }

    /**
     * Starts one more llm node on {@code layers} ("auto" or "a-b") in a running cluster, named after the ones before
     * it (llm-N); it joins through ZooKeeper like the others. Returns its name at once, before it is ready.
     */
    public synchronized String addLlmNode(String layers) throws IOException {
        if (zkConnect == null) {
            throw new IllegalStateException("start the cluster first");
        }
        String name = "llm-" + nodes.stream().filter(n -> n.name.startsWith("llm-")).count();
        spawnLlmNode(name, layers);
        reportExit(nodes.get(nodes.size() - 1));
        return name;
    }

    /**
     * Starts one more coordinator with the cluster's coordinator flags, on a port it picks (and an HTTP port it picks,
     * if the cluster's coordinator has one); it serves the same nodes. Returns its endpoint once it serves (within
     * {@code timeout}), maybe before it sees the layers covered; its name in {@link #pids()} is
     * {@code coordinator-N}.
     */
    public synchronized String addCoordinator(Duration timeout) throws IOException, InterruptedException {
        if (zkConnect == null) {
            throw new IllegalStateException("start the cluster first");
        }
        String name = "coordinator-" + nodes.stream().filter(n -> n.name.startsWith("coordinator-")).count();
        List<String> args = new ArrayList<>(List.of("coordinator", "--zk", zkConnect, "--port", "0"));
        args.addAll(spec.coordinatorOptions());
        int http = args.indexOf("--http-port");
        if (http >= 0) {
            args.set(http + 1, "0"); // the first coordinator has the one given
        }
        spawn(name, args);
        Node coordinator = nodes.get(nodes.size() - 1);
        long deadline = System.nanoTime() + timeout.toNanos();
        OptionalInt port;
        while ((port = coordinator.readyPort()).isEmpty()) {
            checkAlive();
            if (System.nanoTime() >= deadline) {
                throw new IOException(name + " did not serve within " + timeout.toSeconds() + " s; see "
                        + coordinator.logFile);
            }
            Thread.sleep(250);
        }
        reportExit(coordinator);
        return "127.0.0.1:" + port.getAsInt();
    }

    /** The metrics endpoint of every node started so far, by node name; empty without {@code metricsPort}. */
    public synchronized Map<String, String> metricsEndpoints() {
        return new LinkedHashMap<>(metrics);
    }

    private int nextMetricsPort() {
        if (nextMetricsPort == 0) {
            nextMetricsPort = spec.metricsPort() + 1;
        }
        return nextMetricsPort++;
    }

    /** The process id of every node started so far, by node name (vision-0, llm-0, ..., coordinator-...). */
    public synchronized Map<String, Long> pids() {
        Map<String, Long> pids = new LinkedHashMap<>();
        nodes.forEach(n -> pids.put(n.name, n.process.pid()));
        return pids;
    }

    /** {@code port}, once it is found free on loopback; else fails naming the {@code option} that chose it. */
    static int requireFree(int port, String option) throws IOException {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return port;
        } catch (IOException e) {
            throw new IOException("port " + port + " on 127.0.0.1 is already in use (another process listens there,"
                    + " perhaps another cluster): stop it or pick another " + option, e);
        }
    }

    /**
     * The credential file given to every node: the embedded ZooKeeper is on loopback, but other users of this
     * machine reach it too. A fresh random password per launch; the file is readable by this user only.
     */
    private static Path writeCredential(Path file) throws IOException {
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        String line = "convllava-local:" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret) + "\n";
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, line, StandardCharsets.UTF_8);
        return file;
    }

    /**
     * The ZooKeeper credential file of the embedded ZooKeeper, for {@code convllava status --zk-auth-file};
     * null before start or with an external ensemble (whose nodes take {@code CONVLLAVA_ZK_AUTH_FILE} from the
     * environment, if set).
     */
    public Path zkAuthFile() {
        return zkAuthFile;
    }

    /** The ZooKeeper connect string the nodes use; null before start. */
    public String zkConnect() {
        return zkConnect;
    }

    private static List<String> llmNodeJavaOptions() {
        List<String> options = new ArrayList<>(List.of("-XX:+UseSerialGC", "-Xmn8m", "-XX:MarkSweepDeadRatio=0",
                "-XX:MinHeapFreeRatio=1", "-XX:MaxHeapFreeRatio=2", "-XX:-ShrinkHeapInSteps",
                "-Dio.grpc.netty.shaded.io.netty.allocator.numDirectArenas=0"));
        if (hasVmOption("TrimNativeHeapInterval")) { // the nodes run this process's JVM
            options.addAll(List.of("-XX:+UnlockExperimentalVMOptions", "-XX:TrimNativeHeapInterval=2000"));
        }
        return List.copyOf(options);
    }

    private static boolean hasVmOption(String name) {
        try {
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private void spawnLlmNode(String name, String layers) throws IOException {
        spawn(name, List.of("llm-node", "--zk", zkConnect, "--port", "0", "--layers", layers));
    }

    private synchronized void spawn(String name, List<String> roleArgs) throws IOException {
        checkNotClosed();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        boolean llmNode = roleArgs.get(0).equals("llm-node");
        if (llmNode) {
            boolean collectorChosen = spec.nodeJavaOptions().matches(".*-XX:\\+Use\\w+GC.*");
            LLM_NODE_JAVA_OPTIONS.stream().filter(o -> !(collectorChosen && o.equals("-XX:+UseSerialGC")))
                    .forEach(cmd::add);
        }
        cmd.addAll(List.of(spec.nodeJavaOptions().trim().split("\\s+")));
        cmd.add("-D" + ParentWatch.PARENT_PID + "=" + ProcessHandle.current().pid()); // stop if this process dies
        cmd.add("-Dai.djl.pytorch.num_threads=1");
        cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector")); // the decoder's kernels (Vector API)
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(roleArgs);
        cmd.addAll(List.of("--model", spec.model(), "--node-id", name));
        if (zkAuthFile != null) {
            cmd.addAll(List.of("--zk-auth-file", zkAuthFile.toString()));
        }
        if (!roleArgs.get(0).equals("coordinator")) {
            cmd.addAll(List.of("--device", spec.device())); // the coordinator holds no weights
        }
        if (spec.hfCache() != null) {
            cmd.addAll(List.of("--hf-cache", spec.hfCache()));
        }
        if (spec.visionTower() != null) {
            cmd.addAll(List.of("--vision-tower", spec.visionTower()));
        }
        if (spec.metricsPort() > 0) {
            int port = name.equals(coordinatorId) ? spec.metricsPort() : nextMetricsPort();
            cmd.addAll(List.of("--metrics-port", String.valueOf(port)));
            metrics.put(name, "http://127.0.0.1:" + port + "/metrics");
        }
        cmd.addAll(List.of("--log-format", spec.logFormat()));
        Path logFile = spec.logDir().resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(logFile.toFile()));
        if (llmNode) {
            builder.environment().putIfAbsent("MALLOC_ARENA_MAX", "2"); // fewer malloc arenas: less native slack
        }
        Process process = builder.start();
        nodes.add(new Node(name, process, logFile));
        log.println("local: started " + name + " (pid " + process.pid() + ", log " + logFile + ")");
    }

    /**
     * Waits until every node says it is ready and {@code coordinator} reports the layers covered; returns the
     * coordinator's endpoint, on the port it says it serves.
     */
    private String awaitReady(Node coordinator, Duration timeout) throws InterruptedException, IOException {
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        long nextProgress = started + PROGRESS_EVERY_NANOS;
        Set<Node> ready = new HashSet<>();
        String endpoint = null;
        ManagedChannel channel = null;
        ConvLlavaGrpc.ConvLlavaBlockingStub stub = null;
        String waitingFor = "the coordinator to serve";
        try {
            while (System.nanoTime() < deadline) {
                checkAlive();
                for (Node node : nodes) {
                    if (!ready.contains(node) && node.saysReady()) {
                        ready.add(node);
                        log.println("local: " + node.name + " ready (" + secondsSince(started) + " s)");
                    }
                }
                if (stub == null && ready.contains(coordinator)) { // its ready line names its port
                    endpoint = "127.0.0.1:" + coordinator.readyPort().getAsInt();
                    channel = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
                    stub = coordinatorStub(channel);
                }
                if (stub != null) {
                    try {
                        ClusterStatus status = stub.withDeadlineAfter(2, TimeUnit.SECONDS)
                                .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
                        Optional<String> missing = missing(status, coordinatorId, spec.visionNodes());
                        if (missing.isEmpty() && ready.size() == nodes.size()) {
                            return endpoint;
                        }
                        waitingFor = missing.orElse("every node to say it is ready");
                    } catch (StatusRuntimeException e) {
                        waitingFor = "the coordinator to answer (" + e.getStatus().getCode() + ")";
                    }
                }
                if (System.nanoTime() >= nextProgress) {
                    log.println("local: waiting for " + stillStarting(ready).orElse(waitingFor) + " ("
                            + secondsSince(started) + " s)");
                    nextProgress = System.nanoTime() + PROGRESS_EVERY_NANOS;
                }
                Thread.sleep(250);
            }
        } finally {
            if (channel != null) {
                channel.shutdownNow();
            }
        }
        throw new IOException("the local cluster was not ready within " + timeout.toSeconds() + " s (waiting for "
                + stillStarting(ready).orElse(waitingFor) + "); see the node logs in " + spec.logDir());
    }

    /** A stub for the cluster's coordinator, with the first token of its --token-file when it wants one. */
    private ConvLlavaGrpc.ConvLlavaBlockingStub coordinatorStub(ManagedChannel channel) throws IOException {
        ConvLlavaGrpc.ConvLlavaBlockingStub stub = ConvLlavaGrpc.newBlockingStub(channel);
        int tokenFile = spec.coordinatorOptions().indexOf("--token-file");
        if (tokenFile >= 0) {
            stub = stub.withInterceptors(BearerTokens.sending(BearerTokens.firstOf(
                    Path.of(spec.coordinatorOptions().get(tokenFile + 1)))));
        }
        return stub;
    }

    /**
     * What {@code status} still lacks for this cluster to be ready, or empty when it is ready. A status from
     * another coordinator (another cluster on the port) never makes this one ready.
     */
    static Optional<String> missing(ClusterStatus status, String coordinatorId, int visionNodes) {
        if (!status.getCoordinatorId().equals(coordinatorId)) {
            return Optional.of("this cluster's coordinator " + coordinatorId + " (the port is answered by '"
                    + status.getCoordinatorId() + "', another cluster's)");
        }
        long vision = status.getNodesList().stream().filter(n -> n.getRole() == NodeStatus.Role.VISION).count();
        if (!status.getLayersCovered() || status.getPipelinesCount() == 0 || vision < visionNodes) {
            return Optional.of("the coordinator to see every layer covered (now " + status.getLayersCovered()
                    + ") and " + visionNodes + " vision node(s) (now " + vision + ")");
        }
        return Optional.empty();
    }

    /** The nodes not yet ready, each with the last line of its log if it has one: what it is doing. */
    private Optional<String> stillStarting(Set<Node> ready) {
        String starting = nodes.stream().filter(n -> !ready.contains(n))
                .map(n -> n.lastActivity().map(a -> n.name + " (" + a + ")").orElse(n.name))
                .collect(Collectors.joining(", "));
        return starting.isEmpty() ? Optional.empty() : Optional.of(starting);
    }

    private void checkAlive() throws IOException {
        checkNotClosed();
        for (Node node : nodes) {
            if (!node.process.isAlive()) {
                throw new IOException(node.exitReport());
            }
        }
    }

    private void checkNotClosed() throws IOException {
        if (closed.get()) {
            throw new IOException("the local cluster was stopped while starting");
        }
    }

    /** Once started, a node that exits before {@link #close()} is reported on the log stream. */
    private void reportExit(Node node) {
        node.process.onExit().thenRun(() -> {
            if (!closed.get()) {
                log.println("local: " + node.exitReport());
            }
        });
    }

    /** Stops every node (SIGTERM, then SIGKILL for those still running after a few seconds) and ZooKeeper. */
    @Override
    public synchronized void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        nodes.forEach(n -> n.process.destroy());
        long deadline = System.nanoTime() + STOP_GRACE.toNanos();
        try {
            for (Node node : nodes) {
                long left = deadline - System.nanoTime();
                if (!node.process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                    node.process.destroyForcibly().waitFor(STOP_GRACE.toSeconds(), TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            nodes.forEach(n -> n.process.destroyForcibly());
        }
        if (zookeeper != null) {
            zookeeper.close();
        }
        if (!nodes.isEmpty()) {
            log.println("local: every node stopped");
        }
    }

    private static long secondsSince(long nanoTime) {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - nanoTime);
    }

    /** A spawned node: its process and the file its stdout and stderr go to. */
    private record Node(String name, Process process, Path logFile) {

        /** Every role prints "{@code <role> ready at host:port}" once it serves. */
        boolean saysReady() {
            return readyPort().isPresent();
        }

        /** The port of the "{@code <role> ready at host:port}" line, once the node has printed it. */
        OptionalInt readyPort() {
            return portIn(READY_AT);
        }

        /** The HTTP port a coordinator's ready line names, once it has printed it. */
        OptionalInt httpPort() {
            return portIn(HTTP_AT);
        }

        /** The port that {@code pattern}'s first group matches in the first log line it finds. */
        private OptionalInt portIn(Pattern pattern) {
            for (String line : logLines()) {
                Matcher m = pattern.matcher(message(line));
                if (m.find()) {
                    return OptionalInt.of(Integer.parseInt(m.group(1)));
                }
            }
            return OptionalInt.empty();
        }

        /** The last line of the log, without the "llm node llm-0: " prefix some lines repeat. */
        Optional<String> lastActivity() {
            List<String> lines = logLines();
            if (lines.isEmpty()) {
                return Optional.empty();
            }
            String last = message(lines.get(lines.size() - 1)).replaceFirst("^\\w+ node( \\S+)?: ", "");
            return Optional.of(last.length() <= 60 ? last : last.substring(0, 57) + "...");
        }

        String exitReport() {
            List<String> lines = logLines();
            return name + " exited unexpectedly with code " + process.exitValue() + "; last lines of " + logFile
                    + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
        }

        /** A log line's message: the line itself, or its {@code msg} for a JSON log line. */
        private static String message(String line) {
            if (line.startsWith("{")) {
                try {
                    JsonElement msg = JsonParser.parseString(line).getAsJsonObject().get("msg");
                    return msg == null ? line : msg.getAsString();
                } catch (RuntimeException e) {
                    return line; // not JSON after all
                }
            }
            return line;
        }

        /** Read afresh each time: start-up logs are a few dozen lines. Empty if the file went away. */
        private List<String> logLines() {
            try {
                return new String(Files.readAllBytes(logFile), StandardCharsets.UTF_8).lines()
                        .filter(l -> !l.isBlank()).toList();
            } catch (IOException e) {
                return List.of();
            }
        }
    }
}
