package io.convllava.llm.node;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.cluster.AssignmentWatcher;
import io.convllava.common.cluster.ClusterView;
import io.convllava.common.cluster.LayerRange;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRegistration;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.metrics.LoadProgress;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.node.Closing;
import io.convllava.common.node.Membership;
import io.convllava.common.node.RegisteredNode;
import io.convllava.common.transport.GrpcServer;
import io.convllava.common.transport.TransportOptions;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.schedule.BatchLimits;
import io.convllava.llm.server.LlmNodeServer;
import io.convllava.llm.server.LlmNodeSettings;
import org.apache.curator.framework.CuratorFramework;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A running llm node: a range of decoder layers behind the LlmNode service, registered in ZooKeeper. It listens
 * before anything else, so a busy port fails at once, and answers UNAVAILABLE until its layers are loaded. With a
 * fixed range it loads, serves and registers with the range; with {@code auto} it registers first, waits for the
 * plan leader to assign a range, loads only those layers, serves, and republishes itself with the range; when a
 * later plan moves it (a node left and the leader closes the gap), it moves make-before-break ({@link #moveTo}).
 * While up it republishes its number of active sessions every second, which coordinators route by.
 */
public final class LlmNode extends RegisteredNode<LlmNodeServer> {
    public static final int DEFAULT_PORT = 50071;

    private final NodeRegistration registration;
    private final ClusterView view;
    private final AssignmentWatcher assignments;
    private final OrphanedSessions orphans;
    /** Loads a newly assigned range off the ZooKeeper event thread; null for a fixed range. */
    private final ExecutorService reloader;
    private final Reload reload;
    private volatile LlamaShard shard;
    /** The layers a move leaves, until their sessions are drained. */
    private volatile LlamaShard leaving;
    /** How long a move lets the old layers finish their sessions before their steps fail (and move elsewhere). */
    static final Duration DRAIN_PATIENCE = Duration.ofMinutes(2);

    /** What loading another range needs. */
    private record Reload(ModelFiles files, String device, PrintStream log) {
    }

    private LlmNode(LlamaShard shard, LlmNodeServer server, NodeRegistration registration, ClusterView view,
                    AssignmentWatcher assignments, Reload reload, PrintStream log) {
        super(server, registration, server::activeSessions);
        this.shard = shard;
        this.registration = registration;
        this.view = view;
        this.assignments = assignments;
        this.reload = reload;
        this.orphans = new OrphanedSessions(view, owner -> {
            int freed = server.releaseOwnedBy(owner);
            if (freed > 0) {
                log.println("llm node " + registration.info().nodeId() + ": freed " + freed
                        + " session(s) of coordinator " + owner + ", which left the cluster");
            }
        }, OrphanedSessions.GRACE, registration.info().nodeId());
        orphans.start();
        this.reloader = reload == null ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "llm-reload-" + registration.info().nodeId());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Listens on {@code host:port} first (0 = any free port; a busy port fails at once), then loads its layers and
     * serves them.
     *
     * @param layers          {@code "start-end"} (half-open) or {@code "auto"}
     * @param nodeId          null = {@code llm-<host>:<port>}
     * @param assignmentWait  how long an {@code auto} node waits for the plan to give it layers
     * @param transport       gRPC settings of its server and of its channels to later stages (TLS)
     */
    public static LlmNode start(ModelFiles files, String modelId, String layers, String device, String host, int port,
                                String nodeId, CuratorFramework zk, ZkLayout layout, Duration assignmentWait,
                                BatchLimits limits, TransportOptions transport, PrintStream log) throws Exception {
        int numLayers = files.llmConfig().numHiddenLayers();
        boolean auto = NodeInfo.AUTO.equals(layers);
        LayerRange range = auto ? null : parseRange(layers, numLayers);
        GrpcServer bound = GrpcServer.bind(nodeId != null ? "llm-node-" + nodeId : "llm-node", host, port,
                transport);
        String id = nodeId != null ? nodeId : "llm-" + bound.address();
        if (auto) {
            return startAuto(files, modelId, numLayers, device, bound, host, id, zk, layout, assignmentWait, limits,
                    transport, log);
        }
        LlamaShard shard = null;
        LlmNodeServer server = null;
        try {
            shard = load(files, range, device, log);
            server = serve(bound, shard, 0, files, id, limits, transport, log); // fixed layers: no epoch to check
            NodeInfo info = NodeInfo.llm(id, host, bound.port(), modelId, device, numLayers, range.toString())
                    .withLayers(range).withMaxSessions(server.maxSessions());
            NodeRegistration registration = Membership.register(zk, layout, info);
            ClusterView view = new ClusterView(zk, layout); // to see coordinators leave (OrphanedSessions)
            try {
                view.start();
            } catch (Exception e) {
                Closing.inOrder(registration, view);
                throw e;
            }
            return new LlmNode(shard, server, registration, view, null, null, log);
        } catch (Exception e) {
            closeAfterFailure(bound, server, shard);
            throw e;
        }
    }

    /**
     * Registers without layers (answering calls UNAVAILABLE meanwhile), waits for the plan's assignment, loads it,
     * serves, republishes with the range.
     */
    private static LlmNode startAuto(ModelFiles files, String modelId, int numLayers, String device, GrpcServer bound,
                                     String host, String id, CuratorFramework zk, ZkLayout layout,
                                     Duration assignmentWait, BatchLimits limits, TransportOptions transport,
                                     PrintStream log) throws Exception {
        NodeRegistration registration;
        try {
            registration = Membership.register(zk, layout,
                    NodeInfo.llm(id, host, bound.port(), modelId, device, numLayers, NodeInfo.AUTO));
        } catch (Exception e) {
            bound.close();
            throw e;
        }
        ClusterView view = new ClusterView(zk, layout);
        AtomicReference<LlmNode> serving = new AtomicReference<>();
        AssignmentWatcher watcher = new AssignmentWatcher(view, id, a -> {
            LlmNode node = serving.get();
            if (node != null) {
                node.follow(a);
            }
        });
        LlamaShard shard = null;
        LlmNodeServer server = null;
        try {
            view.start();
            watcher.start();
            log.println("llm node " + id + ": registered, waiting for the plan to assign layers");
            AssignmentWatcher.Assignment assignment = watcher.awaitAssignment(assignmentWait).orElseThrow(() ->
                    new IOException("llm node " + id + ": no layers assigned within " + assignmentWait.toSeconds()
                            + " s: is a coordinator (the plan leader) running?"));
            log.println("llm node " + id + ": plan epoch " + assignment.epoch() + " assigns layers "
                    + assignment.layers());
            shard = load(files, assignment.layers(), device, log);
            server = serve(bound, shard, assignment.epoch(), files, id, limits, transport, log);
            int maxSessions = server.maxSessions();
            registration.update(info -> info.withLayers(assignment.layers()).withMaxSessions(maxSessions));
            LlmNode node = new LlmNode(shard, server, registration, view, watcher, new Reload(files, device, log),
                    log);
            serving.set(node);
            watcher.current().ifPresent(node::follow); // a newer plan may have come while the layers loaded
            return node;
        } catch (Exception e) {
            Closing.inOrder(registration, watcher, view);
            closeAfterFailure(bound, server, shard);
            throw e;
        }
    }

    /** The layers new sessions get (during a move: the new ones). */
    public LayerRange layers() {
        return new LayerRange(shard.start(), shard.end());
    }

    /** Sessions with a KV cache on this node. */
    public int activeSessions() {
        return server.activeSessions();
    }

    /** Batched steps this node has run. */
    public long steps() {
        return server.steps();
    }

    /** Moves to the assigned range if it differs from the one served (loading happens on the reload thread). */
    private void follow(AssignmentWatcher.Assignment assignment) {
        if (!assignment.layers().equals(layers()) && !reloader.isShutdown()) {
            reloader.execute(() -> moveTo(assignment));
        }
    }

    /**
     * Make-before-break: loads the new layers while the old ones keep serving, takes new sessions on them, publishes
     * them (coordinators route there from now on), and only then lets the old layers finish the sessions they hold
     * (at most {@link #DRAIN_PATIENCE}) before freeing them. No routed request fails on the way; both shards are in
     * memory until the old one is drained.
     */
    private void moveTo(AssignmentWatcher.Assignment assignment) {
        LayerRange from = layers();
        LayerRange to = assignment.layers();
        if (to.equals(from)) {
            return;
        }
        String id = registration.info().nodeId();
        PrintStream log = reload.log();
        log.println("llm node " + id + ": plan epoch " + assignment.epoch() + " moves this node from layers "
                + from + " to " + to + "; serving " + from + " while " + to + " loads");
        LlamaShard next;
        try {
            next = load(reload.files(), to, reload.device(), log);
        } catch (RuntimeException e) {
            log.println("llm node " + id + ": could not load layers " + to + ", still serving " + from + ": "
                    + e.getMessage());
            return;
        }
        leaving = shard;
        server.switchTo(next, assignment.epoch());
        shard = next;
        registration.assignLayers(to);
        log.println("llm node " + id + ": serving layers " + to + "; layers " + from + " finish their "
                + server.activeSessions() + " session(s)");
        try {
            LlamaShard drained = server.drainPrevious(DRAIN_PATIENCE);
            Closing.inOrder(drained);
            leaving = null;
            log.println("llm node " + id + ": layers " + from + " drained and freed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // stopping: afterStop frees the old layers
        }
    }

    /** Stops reloading, frees the layers, then stops following the plan. */
    @Override
    protected void afterStop() {
        if (reloader != null) {
            reloader.shutdownNow();
            try {
                reloader.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Closing.inOrder(orphans, shard, leaving, assignments, view);
    }

    private static LlamaShard load(ModelFiles files, LayerRange range, String device, PrintStream log) {
        LlamaShard shard;
        try (TensorSource weights = files.openLlmWeights()) {
            shard = LlamaShard.load(files.llmConfig(), weights, range.start(), range.end(), device,
                    (start, end, loaded, total) -> {
                        LoadProgress.report("decoder", loaded, total);
                        log.println("loading decoder layers " + range + ": layer " + loaded + "/" + total);
                    });
        }
        // the checkpoint's memory-mapped windows the weights were copied from are unmapped only when collected:
        // without this, a node kept up to ~150 MB of the file resident beside its copy until some later full collection
        System.gc();
        long started = System.nanoTime();
        try {
            int steps = ShardWarmUp.run(shard, files.llmConfig().hiddenSize(), files.llmConfig().vocabSize(),
                    ShardWarmUp.steps(), ShardWarmUp.BUDGET);
            log.println(String.format("decoder layers %s warmed up: %d steps in %.0f ms", range, steps,
                    (System.nanoTime() - started) / 1e6));
        } catch (RuntimeException e) {
            log.println("decoder layers " + range + ": warm-up failed (" + e + "); serving cold");
        }
        return shard;
    }

    private static LlmNodeServer serve(GrpcServer bound, LlamaShard shard, long layersEpoch, ModelFiles files,
                                       String id, BatchLimits limits, TransportOptions transport,
                                       PrintStream log) {
        BatchLimits resolved = limits.resolveKv(shard.engineName().equals("cpu"));
        log.println(String.format("llm node %s: batches up to %d sessions / %d positions per step, KV budget %s,"
                + " at most %d sessions", id, resolved.maxBatch(), resolved.maxBatchTokens(),
                resolved.kvCacheBytes() == 0 ? "unlimited" : String.format("%.1f MB", resolved.kvCacheBytes() / 1e6),
                resolved.maxSessions()));
        return LlmNodeServer.serve(bound, shard, files.llmConfig(), transport,
                LlmNodeSettings.of(id).withLimits(resolved).withLayersEpoch(layersEpoch));
    }

    /** Closes what a start that failed had opened: the server (or just its bound port), then the layers. */
    private static void closeAfterFailure(GrpcServer bound, LlmNodeServer server, LlamaShard shard) {
        Closing.inOrder(server != null ? server : bound);
        if (shard != null) {
            shard.close();
        }
    }

    /** {@code start-end} checked against the model; the message says what is wrong. */
    public static LayerRange parseRange(String layers, int numLayers) {
        LayerRange range;
        try {
            range = LayerRange.parse(layers);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + ", or 'auto'", e);
        }
        if (range.end() > numLayers) {
            throw new IllegalArgumentException(layers + " goes past the model's " + numLayers + " layers");
        }
        return range;
    }
}
