package io.convllava.coordinator.server;

import io.convllava.common.client.RemotePipeline;
import io.convllava.common.cluster.ClusterView;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRegistration;
import io.convllava.common.cluster.PlanLeader;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.node.Closing;
import io.convllava.common.node.ZooKeeperReadiness;
import io.convllava.common.transport.GrpcServer;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.httpapi.HttpApi;
import io.convllava.coordinator.routing.Router;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A running coordinator: watches the cluster, routes requests, takes part in the plan leader election and serves
 * the public API; registered in ZooKeeper as a COORDINATOR member once it answers.
 */
public final class CoordinatorServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorServer.class);
    private static final Duration ZK_WAIT = Duration.ofSeconds(30);
    /** How long a canary generation may take before it counts as failed. */
    static final Duration CANARY_TIMEOUT = Duration.ofSeconds(30);

    private final ClusterView view;
    private final Router router;
    private final GrpcServer server;
    private final PlanLeader leader;
    private final NodeRegistration registration;
    private final HttpApi http;
    private final ZooKeeperReadiness zooKeeper;
    private final Canary canary;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CoordinatorServer(ClusterView view, Router router, GrpcServer server, HttpApi http, PlanLeader leader,
                              NodeRegistration registration, ZooKeeperReadiness zooKeeper, Canary canary) {
        this.view = view;
        this.router = router;
        this.server = server;
        this.http = http;
        this.leader = leader;
        this.registration = registration;
        this.zooKeeper = zooKeeper;
        this.canary = canary;
    }

    /**
     * Binds the ports first (a busy one fails at once, saying so), then reads the cluster, serves the public API (and
     * the HTTP API over it, when configured), joins the plan leader election and registers; on failure, what was
     * started is stopped again. Its health is SERVING only while ZooKeeper is connected, a complete pipeline exists
     * and the latest canary passed.
     */
    public static CoordinatorServer start(ServedModel model, CoordinatorConfig config, CuratorFramework zk,
                                          ZkLayout layout) throws Exception {
        RemotePipeline.batchesInFlightSet(); // a bad setting stops the start, naming the property
        TransportOptions publicPort = config.transport().withServerThreads(config.maxConcurrent() + config.maxQueued()
                + 4);
        if (publicPort.tls() != null) {
            publicPort = publicPort.withTls(publicPort.tls().forPublicServer()); // clients need no cluster certificate
        }
        GrpcServer server = GrpcServer.bind("coordinator", config.host(), config.port(), publicPort);
        HttpApi http;
        try {
            http = config.http() == null ? null : HttpApi.bind(config.host(), config.http(), publicPort.tls());
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        ClusterView view = new ClusterView(zk, layout);
        Router router = new Router(model.numLayers(), config.transport());
        PlanLeader leader = null;
        ZooKeeperReadiness zooKeeper = new ZooKeeperReadiness(zk, server.readiness()).start();
        Canary canary = null;
        try {
            view.start();
            if (!view.awaitInitialized(ZK_WAIT)) {
                throw new IOException("could not read the cluster state from ZooKeeper within " + ZK_WAIT);
            }
            view.addListener(router);
            String nodeId = config.nodeId() != null ? config.nodeId() : "coordinator-" + server.address();
            NodeInfo self = NodeInfo.coordinator(nodeId, config.host(), server.port(), model.id());
            CoordinatorService service = new CoordinatorService(model, router,
                    new AdmissionControl(config.maxConcurrent(), config.maxQueued()),
                    new ImageCache(config.imageCacheBytes()), new EmbeddingCache(config.embeddingCacheBytes()),
                    config.transport(), self, config.reusePrefixes());
            ServerServiceDefinition guarded = config.tokens() == null ? service.bindService()
                    : ServerInterceptors.intercept(service, config.tokens());
            if (!config.canaryInterval().isZero()) {
                canary = new Canary(service, server.readiness(), config.canaryInterval(), CANARY_TIMEOUT).start();
            }
            Canary probing = canary;
            PipelineReadiness pipelines = new PipelineReadiness(router, server.readiness(), model.numLayers(),
                    () -> {
                        if (probing != null) {
                            probing.runSoon();
                        }
                    });
            view.addListener(pipelines);
            router.onDeadNodesChange(pipelines::update);
            pipelines.update();
            server.serve(List.of(() -> guarded));
            if (http != null) {
                http.serve(guarded, model.info(), config.tokens(), publicPort.serverThreads(),
                        CoordinatorMetrics::totals);
            }
            PlanLeader planLeader = new PlanLeader(zk, layout, view, server.address(), config.planSettleDelay(),
                    router::deadNodes);
            leader = planLeader;
            router.onDeadNodesChange(planLeader::reconsider);
            leader.start();
            NodeRegistration registration = new NodeRegistration(zk, layout, self);
            registration.start();
            if (!registration.waitForInitialCreate(ZK_WAIT)) {
                registration.close();
                throw new IOException("could not register coordinator " + nodeId + " in ZooKeeper within "
                        + ZK_WAIT);
            }
            return new CoordinatorServer(view, router, server, http, leader, registration, zooKeeper, canary);
        } catch (Exception e) {
            Closing.inOrder(canary, zooKeeper);
            if (leader != null) {
                leader.close();
            }
            if (http != null) {
                http.close();
            }
            server.close();
            router.close();
            view.close();
            throw e;
        }
    }

    public int port() {
        return server.port();
    }

    /** {@code host:port} clients dial. */
    public String address() {
        return server.address();
    }

    /** Its id in the cluster. */
    public String nodeId() {
        return registration.info().nodeId();
    }

    /** {@code http(s)://host:port} of the HTTP API (under {@code /v1}); null when it is off. */
    public String httpUrl() {
        return http == null ? null : http.url();
    }

    public Router router() {
        return router;
    }

    public boolean isPlanLeader() {
        return leader.hasLeadership();
    }

    /** Stops this coordinator when the JVM exits (SIGINT, SIGTERM). */
    public CoordinatorServer stopOnJvmShutdown() {
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "coordinator-shutdown"));
        return this;
    }

    public void blockUntilShutdown() throws InterruptedException {
        server.blockUntilShutdown();
    }

    /** Leaves the cluster first (no new requests get routed here), then drains and stops the server. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            Closing.inOrder(canary, zooKeeper);
            registration.close();
            leader.close();
        } catch (IOException e) {
            LOG.warn("coordinator {}: leaving ZooKeeper failed ({}); its znodes go when the session ends",
                    registration.info().nodeId(), e.toString());
        } finally {
            if (http != null) {
                http.close();
            }
            server.close();
            router.close();
            view.close();
        }
    }
}
