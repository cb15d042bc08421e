package io.convllava.deploy;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.cluster.AssignmentWatcher;
import io.convllava.common.cluster.ClusterView;
import io.convllava.common.cluster.LayerRange;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRegistration;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.transport.TransportOptions;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.server.LlmNodeServer;
import io.convllava.llm.server.LlmNodeSettings;
import org.apache.curator.framework.CuratorFramework;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;

/**
 * A running llm node: a range of decoder layers behind the LlmNode service, registered in ZooKeeper. With a fixed
 * range it loads, serves and registers with the range; with {@code auto} it registers first, waits for the plan
 * leader to assign a range, loads only those layers, serves, and republishes itself with the range. While up it
 * republishes its number of active sessions every second, which coordinators route by.
 */
public final class LlmNode extends RegisteredNode<LlmNodeServer> {
    public static final int DEFAULT_PORT = 50071;

    private final LlamaShard shard;
    private final ClusterView view;
    private final AssignmentWatcher assignments;

    private LlmNode(LlamaShard shard, LlmNodeServer server, NodeRegistration registration, ClusterView view,
                    AssignmentWatcher assignments) {
        super(server, registration, server::activeSessions);
        this.shard = shard;
        this.view = view;
        this.assignments = assignments;
    }

    /**
     * @param layers          {@code "start-end"} (half-open) or {@code "auto"}
     * @param nodeId          null = {@code llm-<host>:<port>}
     * @param assignmentWait  how long an {@code auto} node waits for the plan to give it layers
     */
    public static LlmNode start(ModelFiles files, String modelId, String layers, String device, String host, int port,
                                String nodeId, CuratorFramework zk, ZkLayout layout, Duration assignmentWait,
                                PrintStream log) throws Exception {
        int numLayers = files.llmConfig().numHiddenLayers();
        // the id names the port, and an auto node registers before it serves: take a free port now
        int bound = port != 0 ? port : freePort(host);
        String id = nodeId != null ? nodeId : "llm-" + host + ":" + bound;
        if (NodeInfo.AUTO.equals(layers)) {
            return startAuto(files, modelId, numLayers, device, host, bound, id, zk, layout, assignmentWait, log);
        }
        LayerRange range = parseRange(layers, numLayers);
        LlamaShard shard = load(files, range, device, log);
        LlmNodeServer server = serve(files, shard, host, bound, id);
        NodeInfo info = NodeInfo.llm(id, host, bound, modelId, device, numLayers, range.toString()).withLayers(range);
        try {
            return new LlmNode(shard, server, Membership.register(zk, layout, info), null, null);
        } catch (IOException | InterruptedException | RuntimeException e) {
            Closing.inOrder(server, shard);
            throw e;
        }
    }

    /** Registers without layers, waits for the plan's assignment, loads it, serves, republishes with the range. */
    private static LlmNode startAuto(ModelFiles files, String modelId, int numLayers, String device, String host,
                                     int bound, String id, CuratorFramework zk, ZkLayout layout,
                                     Duration assignmentWait, PrintStream log) throws Exception {
        NodeRegistration registration = Membership.register(zk, layout,
                NodeInfo.llm(id, host, bound, modelId, device, numLayers, NodeInfo.AUTO));
        ClusterView view = new ClusterView(zk, layout);
        AssignmentWatcher watcher = new AssignmentWatcher(view, id, a -> {
            if (registration.info().layers().filter(l -> !l.equals(a.layers())).isPresent()) {
                log.println("llm node " + id + ": plan epoch " + a.epoch() + " moves this node to layers "
                        + a.layers() + "; it keeps serving " + registration.info().layers().get()
                        + " until restarted");
            }
        });
        try {
            view.start();
            watcher.start();
            log.println("llm node " + id + ": registered, waiting for the plan to assign layers");
            AssignmentWatcher.Assignment assignment = watcher.awaitAssignment(assignmentWait).orElseThrow(() ->
                    new IOException("llm node " + id + ": no layers assigned within " + assignmentWait.toSeconds()
                            + " s: is a coordinator (the plan leader) running?"));
            log.println("llm node " + id + ": plan epoch " + assignment.epoch() + " assigns layers "
                    + assignment.layers());
            LlamaShard shard = load(files, assignment.layers(), device, log);
            LlmNodeServer server = serve(files, shard, host, bound, id);
            registration.assignLayers(assignment.layers());
            return new LlmNode(shard, server, registration, view, watcher);
        } catch (Exception e) {
            Closing.inOrder(registration, watcher, view);
            throw e;
        }
    }

    public LayerRange layers() {
        return new LayerRange(shard.start(), shard.end());
    }

    /** Sessions with a KV cache on this node. */
    public int activeSessions() {
        return server.activeSessions();
    }

    /** Frees the layers, then stops following the plan. */
    @Override
    protected void afterStop() {
        Closing.inOrder(shard);
        if (assignments != null) {
            Closing.inOrder(assignments, view);
        }
    }

    private static LlamaShard load(ModelFiles files, LayerRange range, String device, PrintStream log) {
        try (TensorSource weights = files.openLlmWeights()) {
            return LlamaShard.load(files.llmConfig(), weights, range.start(), range.end(), device,
                    (start, end, loaded, total) -> log.println("loading decoder layers " + range + ": layer "
                            + loaded + "/" + total));
        }
    }

    private static LlmNodeServer serve(ModelFiles files, LlamaShard shard, String host, int port, String id)
            throws IOException {
        try {
            return LlmNodeServer.start(host, port, shard, files.llmConfig(), TransportOptions.DEFAULTS,
                    LlmNodeSettings.of(id));
        } catch (IOException | RuntimeException e) {
            shard.close();
            throw e;
        }
    }

    /** {@code --layers start-end} checked against the model; a usage error names what is wrong. */
    static LayerRange parseRange(String layers, int numLayers) {
        LayerRange range;
        try {
            range = LayerRange.parse(layers);
        } catch (IllegalArgumentException e) {
            throw new Options.UsageException("--layers: " + e.getMessage() + ", or 'auto'");
        }
        if (range.end() > numLayers) {
            throw new Options.UsageException("--layers " + layers + " goes past the model's " + numLayers + " layers");
        }
        return range;
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(host, 0));
            return socket.getLocalPort();
        }
    }
}
