package io.convllava.tests;

import io.convllava.llm.schedule.BatchLimits;
import io.convllava.common.cluster.ZkAuth;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.cluster.Zk;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.server.CoordinatorConfig;
import io.convllava.coordinator.server.CoordinatorServer;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.vision.model.VisionEncoder;
import io.convllava.vision.node.VisionNode;
import io.convllava.vision.server.VisionServingOptions;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.grpc.ManagedChannel;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;

import java.io.PrintStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A cluster of a model (the tiny fixture by default) in this JVM: coordinator, vision and llm nodes as the launcher starts them,
 * on 127.0.0.1 with ephemeral ports, under their own cluster name in a shared ZooKeeper. Closing it stops
 * everything it started, newest first.
 */
final class TestCluster implements AutoCloseable {
    static final ModelFiles TINY = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
    static final String HOST = "127.0.0.1";
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    /** Where tests send progress lines (model loading, cluster start and stop) that a real run prints. */
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    private final ModelFiles files;
    private final String modelId;
    private final CuratorFramework zk;
    private final ZkLayout layout;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private CoordinatorServer coordinator;
    private ManagedChannel channel;
    /** Every node's and coordinator's gRPC settings; plaintext unless {@link #withTransport} says otherwise. */
    private TransportOptions transport = TransportOptions.DEFAULTS;

    /** A cluster of the tiny fixture model. */
    TestCluster(TestingServer server) {
        this(server, TINY, "tiny-convllava");
    }

    TestCluster(TestingServer server, ModelFiles files, String modelId) {
        this(server, files, modelId, null);
    }

    /** A cluster of the tiny fixture model whose nodes all hold the ZooKeeper credential {@code auth}. */
    TestCluster(TestingServer server, ZkAuth auth) {
        this(server, TINY, "tiny-convllava", auth);
    }

    private TestCluster(TestingServer server, ModelFiles files, String modelId, ZkAuth auth) {
        this.files = files;
        this.modelId = modelId;
        this.zk = Zk.newClient(server.getConnectString(), Zk.CONNECTION_TIMEOUT, auth);
        this.layout = new ZkLayout("test-" + CLUSTERS.incrementAndGet());
    }

    /** The transport (TLS) of the nodes and coordinators started from now on. */
    TestCluster withTransport(TransportOptions options) {
        this.transport = options;
        return this;
    }

    ZkLayout layout() {
        return layout;
    }

    /** The ZooKeeper client the cluster's members share. */
    CuratorFramework zk() {
        return zk;
    }

    /** Stops {@code resource} with the cluster, newest first. */
    <T> T closeWithCluster(T resource) {
        return track(resource);
    }

    CoordinatorServer coordinator(ServedModel model) throws Exception {
        return coordinator(model, UnaryOperator.identity());
    }

    /** A coordinator with the test defaults (ephemeral port, short plan settle delay) changed by {@code tune}. */
    CoordinatorServer coordinator(ServedModel model, UnaryOperator<CoordinatorConfig> tune) throws Exception {
        CoordinatorConfig config = tune.apply(CoordinatorConfig.defaults(null, HOST, 0)
                .withPlanSettleDelay(Duration.ofMillis(300)).withTransport(transport));
        coordinator = track(CoordinatorServer.start(model, config, zk, layout));
        channel = track(Channels.forAddress(coordinator.address(), transport));
        return coordinator;
    }

    VisionNode vision() throws Exception {
        return vision(null);
    }

    /** A vision node with a fixed id (null: {@code vision-host:port}), which decides the images routed to it. */
    VisionNode vision(String nodeId) throws Exception {
        return track(VisionNode.start(files, modelId, "cpu", HOST, 0, nodeId, VisionEncoder.defaultEncodeMemoryLimit(),
                VisionServingOptions.DEFAULTS, transport, zk, layout, QUIET));
    }

    LlmNode llm(String layers) throws Exception {
        return llm(layers, BatchLimits.DEFAULTS);
    }

    LlmNode llm(String layers, BatchLimits limits) throws Exception {
        return track(LlmNode.start(files, modelId, layers, "cpu", HOST, 0, null, zk, layout,
                Duration.ofSeconds(30), limits, transport, QUIET));
    }

    /**
     * The whole demo cluster as {@code ./convllava local} starts it: a coordinator, a vision node, llm nodes holding
     * layers 0-2 and 2-4; returns the first llm node once they form a pipeline.
     */
    LlmNode startTwoStagePipeline() throws Exception {
        coordinator(ServedModel.load(modelId, files));
        vision();
        LlmNode first = llm("0-2");
        llm("2-4");
        awaitPipelines(1);
        return first;
    }

    String coordinatorAddress() {
        return coordinator.address();
    }

    ConvLlavaGrpc.ConvLlavaBlockingStub client() {
        return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    ConvLlavaGrpc.ConvLlavaStub asyncClient() {
        return ConvLlavaGrpc.newStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** Waits until the coordinator routes over {@code count} complete pipelines. */
    void awaitPipelines(int count) {
        await(() -> coordinator.router().assembly().pipelines().size() == count,
                "the coordinator to see " + count + " complete pipeline(s)");
    }

    static void await(BooleanSupplier condition, String what) {
        await(condition, Duration.ofSeconds(30), what);
    }

    static void await(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }

    private synchronized <T> T track(T resource) {
        if (resource instanceof ManagedChannel c) {
            started.push(c::shutdownNow);
        } else {
            started.push((AutoCloseable) resource);
        }
        return resource;
    }

    @Override
    public void close() throws Exception {
        while (!started.isEmpty()) {
            started.pop().close();
        }
        zk.close();
    }
}
