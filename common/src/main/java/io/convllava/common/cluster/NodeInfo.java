package io.convllava.common.cluster;

import java.util.Optional;
import java.util.UUID;

/**
 * What a cluster member publishes about itself in its {@code members/<nodeId>} znode (JSON).
 *
 * @param nodeId          unique id within the cluster, one path segment
 * @param incarnation     random UUID of this start of the node; a restarted node gets a new one, so stale data from a
 *                        previous run (a zombie) can be told apart
 * @param role            what the node does
 * @param host            host other nodes dial
 * @param port            gRPC port
 * @param model           model name or id the node serves
 * @param device          "cpu" or "gpu"
 * @param numLayers       decoder layers of the whole model (LLM nodes), 0 otherwise
 * @param requestedLayers LLM nodes: {@value #AUTO} (the plan leader assigns a range) or a fixed half-open range
 *                        {@code "start-end"}; null for other roles
 * @param layerStart      first layer the node has loaded and serves, -1 while none (LLM nodes) or for other roles
 * @param layerEnd        end (exclusive) of the loaded layers, -1 while none
 * @param activeSessions  sessions with live state on the node (KV caches, running encodes)
 * @param queuedRequests  requests waiting for the node
 * @param maxSessions     sessions the node takes at most (LLM nodes: beyond it, RESOURCE_EXHAUSTED); 0 = not said
 * @param startedAt       start time of the node, epoch milliseconds
 */
public record NodeInfo(
        String nodeId,
        String incarnation,
        NodeRole role,
        String host,
        int port,
        String model,
        String device,
        int numLayers,
        String requestedLayers,
        int layerStart,
        int layerEnd,
        int activeSessions,
        int queuedRequests,
        int maxSessions,
        long startedAt) {

    public static final String AUTO = "auto";

    public NodeInfo {
        ZkLayout.requireSegment(nodeId, "nodeId");
        String who = "node '" + nodeId + "': ";
        require(incarnation != null && !incarnation.isBlank(), who + "incarnation must not be empty");
        require(role != null, who + "role must be one of VISION, LLM, COORDINATOR");
        require(host != null && !host.isBlank(), who + "host must not be empty");
        require(port > 0 && port <= 65535, who + "port " + port + " must be in 1..65535");
        require(activeSessions >= 0 && queuedRequests >= 0 && maxSessions >= 0,
                who + "activeSessions, queuedRequests and maxSessions must be >= 0");
        if (role == NodeRole.LLM) {
            require(numLayers > 0, who + "numLayers " + numLayers + " must be > 0 for an LLM node");
            require(requestedLayers != null, who + "requestedLayers must be 'auto' or 'start-end'");
            if (!AUTO.equals(requestedLayers)) {
                requireWithin(parseRange(requestedLayers, who + "requestedLayers"), numLayers, who + "requestedLayers");
            }
            if (layerStart != -1 || layerEnd != -1) {
                requireWithin(rangeOf(layerStart, layerEnd, who), numLayers, who + "layers");
            }
        } else {
            require(layerStart == -1 && layerEnd == -1 && requestedLayers == null,
                    who + "layers apply to LLM nodes only, this one is " + role);
        }
    }

    /** A vision node, with a fresh incarnation. */
    public static NodeInfo vision(String nodeId, String host, int port, String model, String device) {
        return new NodeInfo(nodeId, newIncarnation(), NodeRole.VISION, host, port, model, device, 0, null, -1, -1,
                0, 0, 0, System.currentTimeMillis());
    }

    /**
     * An LLM node that has not loaded layers yet, with a fresh incarnation.
     *
     * @param requestedLayers {@value #AUTO} or a half-open {@code "start-end"}
     */
    public static NodeInfo llm(String nodeId, String host, int port, String model, String device, int numLayers,
                               String requestedLayers) {
        return new NodeInfo(nodeId, newIncarnation(), NodeRole.LLM, host, port, model, device, numLayers,
                requestedLayers, -1, -1, 0, 0, 0, System.currentTimeMillis());
    }

    /** A coordinator, with a fresh incarnation. */
    public static NodeInfo coordinator(String nodeId, String host, int port, String model) {
        return new NodeInfo(nodeId, newIncarnation(), NodeRole.COORDINATOR, host, port, model, null, 0, null, -1, -1,
                0, 0, 0, System.currentTimeMillis());
    }

    public static String newIncarnation() {
        return UUID.randomUUID().toString();
    }

    /** The loaded layers, empty until the node has loaded some. */
    public Optional<LayerRange> layers() {
        return layerStart < 0 ? Optional.empty() : Optional.of(new LayerRange(layerStart, layerEnd));
    }

    /** True for an LLM node whose range the plan leader assigns. */
    public boolean isAuto() {
        return AUTO.equals(requestedLayers);
    }

    /** The fixed range an LLM node was started with; empty for {@value #AUTO} and other roles. */
    public Optional<LayerRange> fixedLayers() {
        return requestedLayers == null || isAuto() ? Optional.empty() : Optional.of(LayerRange.parse(requestedLayers));
    }

    /** {@code host:port}. */
    public String address() {
        return host + ":" + port;
    }

    public NodeInfo withLayers(LayerRange layers) {
        return new NodeInfo(nodeId, incarnation, role, host, port, model, device, numLayers, requestedLayers,
                layers.start(), layers.end(), activeSessions, queuedRequests, maxSessions, startedAt);
    }

    public NodeInfo withLoad(int activeSessions, int queuedRequests) {
        return new NodeInfo(nodeId, incarnation, role, host, port, model, device, numLayers, requestedLayers,
                layerStart, layerEnd, activeSessions, queuedRequests, maxSessions, startedAt);
    }

    public NodeInfo withMaxSessions(int max) {
        return new NodeInfo(nodeId, incarnation, role, host, port, model, device, numLayers, requestedLayers,
                layerStart, layerEnd, activeSessions, queuedRequests, max, startedAt);
    }

    /** Whether the node holds as many sessions as it takes ({@code load} counted by the caller); never without a limit. */
    public boolean isFull(int load) {
        return maxSessions > 0 && load >= maxSessions;
    }

    public byte[] toJson() {
        return Json.write(this);
    }

    /**
     * Parses and validates member znode data.
     *
     * @param source where the data came from (a znode path), named in the error
     * @throws IllegalArgumentException naming the source and the field at fault
     */
    public static NodeInfo fromJson(byte[] json, String source) {
        return Json.read(json, NodeInfo.class, source);
    }

    private static LayerRange parseRange(String text, String what) {
        try {
            return LayerRange.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
    }

    private static LayerRange rangeOf(int start, int end, String who) {
        try {
            return new LayerRange(start, end);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(who + "layers: " + e.getMessage(), e);
        }
    }

    private static void requireWithin(LayerRange range, int numLayers, String what) {
        require(range.end() <= numLayers, what + " " + range + " go past the model's " + numLayers + " layers");
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
