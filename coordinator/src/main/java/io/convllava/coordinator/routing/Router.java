package io.convllava.coordinator.routing;

import io.convllava.common.cluster.ClusterSnapshot;
import io.convllava.common.cluster.ClusterView;
import io.convllava.common.cluster.LayerRange;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRole;
import io.convllava.common.cluster.Pipeline;
import io.convllava.common.cluster.PipelineAssembler;
import io.convllava.common.cluster.PipelineAssembly;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.TransportOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;

import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * Chooses where a request runs, from the live cluster: the complete llm pipelines and the vision nodes of the
 * latest {@link ClusterSnapshot}. A node that joins is used from the next snapshot on; one that leaves is dropped
 * at once, with every pipeline it was part of, and its channel is shut down. For a pipeline the least loaded
 * candidate wins: the requests this coordinator has in flight on a node plus the sessions and queue the node
 * reports (its busiest stage); ties rotate. For an image, the content decides ({@link #visionNodesFor}), so that
 * it reaches the vision node that has its embeddings cached.
 */
public final class Router implements ClusterView.Listener, AutoCloseable {
    private final int numLayers;
    private final ChannelPool channels;
    private final DeadNodes dead;
    private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger rotation = new AtomicInteger();
    private volatile Routes routes;
    /** Load a conversation's pipeline may carry beyond the least loaded one and still be chosen for it. */
    static final int AFFINITY_SLACK = 4;
    private static final int AFFINITIES = 4096;
    /** Conversation affinity -> the node ids of the pipeline its latest request used, least recent first out. */
    private final LinkedHashMap<String, List<String>> affinities = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<String>> eldest) {
            return size() > AFFINITIES;
        }
    };

    /** @param numLayers decoder layers of the served model: only pipelines over exactly these count */
    public Router(int numLayers, TransportOptions transport) {
        this.numLayers = numLayers;
        this.channels = new ChannelPool(transport);
        this.dead = new DeadNodes(channels);
        this.routes = Routes.of(ClusterSnapshot.EMPTY, numLayers);
    }

    @Override
    public void clusterChanged(ClusterSnapshot snapshot) {
        Routes next = Routes.of(snapshot, numLayers);
        routes = next;
        Set<String> live = new HashSet<>();
        for (NodeInfo n : snapshot.members().values()) {
            live.add(n.address());
        }
        channels.retainOnly(live);
        inFlight.keySet().retainAll(snapshot.members().keySet());
        dead.retainOnly(snapshot.members().keySet());
    }

    /** The least loaded complete pipeline; UNAVAILABLE naming the uncovered layers when there is none. */
    public Lease<Pipeline> pickPipeline() {
        return pickPipeline(null);
    }

    /**
     * As {@link #pickPipeline()}, but requests with the same {@code affinity} (a conversation) go back to the
     * pipeline the last one used, which keeps its cache, unless that pipeline is gone or carries more than
     * {@value #AFFINITY_SLACK} more load than the least loaded one.
     */
    public Lease<Pipeline> pickPipeline(String affinity) {
        return pickPipeline(affinity, Set.of());
    }

    /**
     * As {@link #pickPipeline(String)}, among the pipelines without any of the nodes in {@code avoid} and without
     * nodes found {@link #checkNodes dead}: UNAVAILABLE naming the layers no other node holds when there is none.
     */
    public Lease<Pipeline> pickPipeline(String affinity, Set<String> avoid) {
        Routes current = routes;
        Set<String> skipped = skipped(current, avoid);
        PipelineAssembly usable = without(current, skipped);
        if (usable.pipelines().isEmpty()) {
            throw Status.UNAVAILABLE.withDescription(noPipelineReason(current.snapshot(), usable, skipped))
                    .asRuntimeException();
        }
        ToIntFunction<Pipeline> load = p -> p.stages().stream().mapToInt(this::load).max().orElse(0);
        List<Pipeline> withRoom = usable.pipelines().stream().filter(this::hasRoom).toList();
        List<Pipeline> candidates = withRoom.isEmpty() ? usable.pipelines() : withRoom;
        Pipeline best = leastLoaded(candidates, load);
        if (affinity != null) {
            List<String> previous;
            synchronized (affinities) {
                previous = affinities.get(affinity);
            }
            for (Pipeline p : candidates) {
                if (p.nodeIds().equals(previous) && load.applyAsInt(p) <= load.applyAsInt(best) + AFFINITY_SLACK) {
                    best = p;
                }
            }
            synchronized (affinities) {
                affinities.put(affinity, best.nodeIds());
            }
        }
        return lease(best, best.nodeIds());
    }

    /**
     * Whether some complete pipeline has room for another session on every stage, by the sessions the nodes report
     * (every second, for every coordinator's requests) or, when more, the calls this coordinator has in flight on
     * them: what every coordinator admits by, so admission follows the whole cluster's load.
     */
    public boolean hasRoom() {
        return assembly().pipelines().stream().anyMatch(this::hasRoom);
    }

    private boolean hasRoom(Pipeline pipeline) {
        return pipeline.stages().stream()
                .noneMatch(n -> n.isFull(Math.max(n.activeSessions() + n.queuedRequests(), inFlight(n.nodeId()))));
    }

    /**
     * Asks each of {@code nodes} (say, the stages of a pipeline whose call failed) whether it is alive, at once and
     * within a second; routing skips those that are not until they answer again or leave the cluster.
     *
     * @return the ids of the nodes found dead
     */
    public List<String> checkNodes(Collection<NodeInfo> nodes) {
        return dead.check(nodes);
    }

    /** The ids of the members found dead by {@link #checkNodes} that have not answered since. */
    public Set<String> deadNodes() {
        return dead.ids();
    }

    /** {@code listener} runs whenever a member is found dead or answers again (say, to plan without it). */
    public void onDeadNodesChange(Runnable listener) {
        dead.addListener(listener);
    }

    /** Whether {@code nodeId} was found dead by {@link #checkNodes} and has not answered since. */
    public boolean isDead(String nodeId) {
        return dead.isDead(nodeId);
    }

    /**
     * The vision nodes in the order an image should try them: first the node its content hashes to
     * ({@link RendezvousHashing} on the image's SHA-256 over the registered vision nodes), which is the one that has
     * its embeddings cached if any has, then the fallbacks. Load plays no part: a repeated image must find its
     * cache. UNAVAILABLE when no vision node is registered.
     */
    public List<NodeInfo> visionNodesFor(String imageSha256) {
        List<NodeInfo> vision = routes.vision();
        if (vision.isEmpty()) {
            throw Status.UNAVAILABLE.withDescription("no vision node is registered: start one (convllava vision-node)"
                    + " or send a text-only request").asRuntimeException();
        }
        // ranked over every registered node, so that an image's first choice does not move while one is dead
        List<NodeInfo> ranked = RendezvousHashing.rank(imageSha256, vision, NodeInfo::nodeId);
        List<NodeInfo> alive = ranked.stream().filter(n -> !dead.isDead(n.nodeId())).toList();
        return alive.isEmpty() ? ranked : alive;
    }

    /** Counts a call in flight on a vision node until the lease is closed. */
    public Lease<NodeInfo> leaseVisionNode(NodeInfo node) {
        return lease(node, List.of(node.nodeId()));
    }

    /** The cached channel to a node. */
    public ManagedChannel channel(NodeInfo node) {
        return channels.get(node.address());
    }

    /** The channels to the nodes, one per address; those of nodes that left are shut down. */
    public ChannelPool channels() {
        return channels;
    }

    /** The snapshot routing currently follows. */
    public ClusterSnapshot snapshot() {
        return routes.snapshot();
    }

    /** The pipelines and layer coverage routing currently uses: without the nodes found dead. */
    public PipelineAssembly assembly() {
        Routes current = routes;
        return without(current, skipped(current, Set.of()));
    }

    /** The members routing leaves out: those in {@code avoid} and those found dead. */
    private Set<String> skipped(Routes current, Set<String> avoid) {
        Set<String> skipped = new HashSet<>(avoid);
        skipped.addAll(dead.ids());
        skipped.retainAll(current.snapshot().members().keySet());
        return skipped;
    }

    private PipelineAssembly without(Routes current, Set<String> skipped) {
        return skipped.isEmpty() ? current.assembly()
                : PipelineAssembler.assemble(current.snapshot().members().values().stream()
                        .filter(n -> !skipped.contains(n.nodeId())).toList(), numLayers);
    }

    /** Requests this coordinator has in flight on a node. */
    public int inFlight(String nodeId) {
        AtomicInteger n = inFlight.get(nodeId);
        return n == null ? 0 : n.get();
    }

    @Override
    public void close() {
        dead.close();
        channels.close();
    }

    private int load(NodeInfo node) {
        return inFlight(node.nodeId()) + node.activeSessions() + node.queuedRequests();
    }

    private <T> T leastLoaded(List<T> candidates, ToIntFunction<T> load) {
        int start = Math.floorMod(rotation.getAndIncrement(), candidates.size());
        T best = null;
        int bestLoad = Integer.MAX_VALUE;
        for (int i = 0; i < candidates.size(); i++) {
            T c = candidates.get((start + i) % candidates.size());
            int l = load.applyAsInt(c);
            if (l < bestLoad) {
                best = c;
                bestLoad = l;
            }
        }
        return best;
    }

    private <T> Lease<T> lease(T target, List<String> nodeIds) {
        for (String id : nodeIds) {
            inFlight.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
        }
        return new Lease<>(target, () -> {
            for (String id : nodeIds) {
                AtomicInteger n = inFlight.get(id);
                if (n != null) {
                    n.decrementAndGet();
                }
            }
        });
    }

    private static String noPipelineReason(ClusterSnapshot snapshot, PipelineAssembly usable, Set<String> skipped) {
        List<LayerRange> missing = usable.coverage().missing();
        List<NodeInfo> llm = snapshot.members(NodeRole.LLM);
        String nodes = llm.isEmpty() ? "no llm node is registered"
                : llm.stream().map(n -> n.nodeId() + " " + n.layers().map(LayerRange::toString).orElse("loading")
                                + (skipped.contains(n.nodeId()) ? " (not answering)" : ""))
                        .collect(Collectors.joining(", ", "llm nodes: ", ""));
        if (!missing.isEmpty()) {
            return "no complete llm pipeline: layers " + missing.stream().map(LayerRange::toString)
                    .collect(Collectors.joining(", ")) + " (of 0-" + usable.numLayers()
                    + ") are not held by any " + (skipped.isEmpty() ? "" : "answering ") + "llm node; " + nodes;
        }
        return "no complete llm pipeline: every layer is held, but no chain of llm nodes runs from layer 0 to "
                + usable.numLayers() + " with adjoining ranges; " + nodes;
    }

    /** What routing follows: a snapshot, its pipelines and its vision nodes. */
    private record Routes(ClusterSnapshot snapshot, PipelineAssembly assembly, List<NodeInfo> vision) {
        static Routes of(ClusterSnapshot snapshot, int numLayers) {
            return new Routes(snapshot, PipelineAssembler.assemble(snapshot.members().values(), numLayers),
                    snapshot.members(NodeRole.VISION));
        }
    }
}
