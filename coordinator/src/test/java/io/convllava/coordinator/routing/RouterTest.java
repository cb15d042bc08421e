package io.convllava.coordinator.routing;

import io.convllava.common.cluster.ClusterSnapshot;
import io.convllava.common.cluster.LayerRange;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.Pipeline;
import io.convllava.common.cluster.ShardPlan;
import io.convllava.common.transport.TransportOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RouterTest {
    private static final int LAYERS = 4;
    private static final String IMAGE = "ab".repeat(32);
    private final Router router = new Router(LAYERS, TransportOptions.DEFAULTS);

    @AfterEach
    void close() {
        router.close();
    }

    @Test
    void noLlmNodesIsUnavailableNamingTheMissingLayers() {
        router.clusterChanged(snapshot(llm("a", 9001, 0, 2)));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, router::pickPipeline);
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("layers 2-4"), e.getStatus().getDescription());
    }

    @Test
    void picksTheLeastLoadedPipelineCountingRequestsInFlight() {
        router.clusterChanged(snapshot(llm("a", 9001, 0, 2), llm("b", 9002, 2, 4), llm("c", 9003, 0, 4)));
        try (Lease<Pipeline> first = router.pickPipeline(); Lease<Pipeline> second = router.pickPipeline()) {
            assertNotEquals(first.target().nodeIds(), second.target().nodeIds(), "both pipelines should be used");
            assertEquals(1, router.inFlight(first.target().first().nodeId()));
        }
        assertEquals(0, router.inFlight("a"));
        assertEquals(0, router.inFlight("c"));
    }

    @Test
    void reportedLoadSteersAwayFromBusyNodes() {
        router.clusterChanged(snapshot(llm("a", 9001, 0, 4).withLoad(5, 0), llm("b", 9002, 0, 4)));
        for (int i = 0; i < 3; i++) {
            try (Lease<Pipeline> p = router.pickPipeline()) {
                assertEquals(List.of("b"), p.target().nodeIds());
            }
        }
    }

    @Test
    void aLeavingNodeTakesItsPipelinesAndChannelAlong() {
        NodeInfo a = llm("a", 9001, 0, 2);
        NodeInfo b = llm("b", 9002, 2, 4);
        NodeInfo whole = llm("w", 9003, 0, 4);
        router.clusterChanged(snapshot(a, b, whole));
        ManagedChannel toB = router.channel(b);
        assertEquals(2, router.assembly().pipelines().size());

        router.clusterChanged(snapshot(a, whole));
        assertEquals(1, router.assembly().pipelines().size());
        assertTrue(toB.isShutdown(), "the channel of a node that left is shut down");
        for (int i = 0; i < 3; i++) {
            try (Lease<Pipeline> p = router.pickPipeline()) {
                assertEquals(List.of("w"), p.target().nodeIds());
            }
        }
    }

    @Test
    void aJoiningNodeIsUsedFromTheNextSnapshot() {
        router.clusterChanged(snapshot(llm("a", 9001, 0, 4)));
        assertThrows(StatusRuntimeException.class, () -> router.visionNodesFor(IMAGE));
        router.clusterChanged(snapshot(llm("a", 9001, 0, 4), NodeInfo.vision("v", "127.0.0.1", 9100, "m", "cpu")));
        assertEquals(List.of("v"), router.visionNodesFor(IMAGE).stream().map(NodeInfo::nodeId).toList());
        try (Lease<NodeInfo> v = router.leaseVisionNode(router.visionNodesFor(IMAGE).get(0))) {
            assertEquals(1, router.inFlight("v"));
        }
        assertEquals(0, router.inFlight("v"));
    }

    @Test
    void channelsAreCachedPerAddress() {
        NodeInfo a = llm("a", 9001, 0, 4);
        router.clusterChanged(snapshot(a));
        assertTrue(router.channel(a) == router.channel(a));
        assertEquals(1, router.channels().size());
    }

    private static NodeInfo llm(String id, int port, int start, int end) {
        return NodeInfo.llm(id, "127.0.0.1", port, "m", "cpu", LAYERS, start + "-" + end)
                .withLayers(new LayerRange(start, end));
    }

    private static ClusterSnapshot snapshot(NodeInfo... nodes) {
        TreeMap<String, NodeInfo> members = new TreeMap<>();
        for (NodeInfo n : nodes) {
            members.put(n.nodeId(), n);
        }
        return new ClusterSnapshot(1, true, members, ShardPlan.NONE);
    }
}
