package io.convllava.tests;

import io.convllava.coordinator.server.AdmissionControl;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.GenerateResponse;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.NodeStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Nodes joining and leaving a running cluster, uneven and automatic layer ranges. */
class ClusterMembershipTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static TestingServer zookeeper;
    private static ServedModel model;
    private TestCluster cluster;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zookeeper = new TestingServer(true);
        model = ServedModel.load("tiny-convllava", TestCluster.TINY);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zookeeper.close();
    }

    @BeforeEach
    void newCluster() throws Exception {
        cluster = new TestCluster(zookeeper);
        cluster.coordinator(model);
    }

    @AfterEach
    void stopCluster() throws Exception {
        cluster.close();
    }

    @Test
    void nodesStartedAfterTheCoordinatorAreDiscoveredAndTextNeedsNoVisionNode() throws Exception {
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class, () -> askTextCase());
        assertEquals(Status.Code.UNAVAILABLE, none.getStatus().getCode());
        assertTrue(none.getStatus().getDescription().contains("layers 0-4"), none.getStatus().getDescription());
        CliRun table = CliRun.of("status", "--zk", zookeeper.getConnectString(), "--cluster",
                cluster.layout().cluster());
        assertEquals(3, table.exitCode, table.err);
        assertTrue(table.out.contains("layers: NOT covered"), table.out);

        cluster.llm("0-2");
        TestCluster.await(() -> cluster.client().getClusterStatus(GetClusterStatusRequest.getDefaultInstance())
                .getNodesCount() == 2, "the first llm node to show up");
        StatusRuntimeException half = assertThrows(StatusRuntimeException.class, () -> askTextCase());
        assertTrue(half.getStatus().getDescription().contains("layers 2-4"), half.getStatus().getDescription());

        cluster.llm("2-4");
        cluster.awaitPipelines(1);
        TINY.assertGreedyPrefix(1, askTextCase());
    }

    @Test
    void aStoppedNodeIsNoLongerRoutedTo() throws Exception {
        LlmNode first = cluster.llm("0-4");
        LlmNode second = cluster.llm("0-4");
        cluster.awaitPipelines(2);
        second.close();
        cluster.awaitPipelines(1);
        for (int i = 0; i < 3; i++) {
            TINY.assertGreedyPrefix(1, askTextCase());
        }
        first.close();
        cluster.awaitPipelines(0);
        assertEquals(Status.Code.UNAVAILABLE,
                assertThrows(StatusRuntimeException.class, () -> askTextCase()).getStatus().getCode());
    }

    @Test
    void threeNodesWithUnevenRanges() throws Exception {
        cluster.vision();
        cluster.llm("0-1");
        cluster.llm("1-3");
        cluster.llm("3-4");
        cluster.awaitPipelines(1);
        TINY.assertGreedyPrefix(0, askImageCase());
        assertEquals(3, status().getPipelines(0).getNodeIdsCount());
    }

    @Test
    void twoAutoNodesSplitTheLayers() throws Exception {
        cluster.vision();
        startAutoNodes(2);
        cluster.awaitPipelines(1);
        assertEquals(List.of("0-2", "2-4"), llmRanges());
        TINY.assertGreedyPrefix(0, askImageCase());

        CliRun table = CliRun.of("status", "--zk", zookeeper.getConnectString(), "--cluster",
                cluster.layout().cluster());
        assertEquals(0, table.exitCode, table.err);
        assertTrue(table.out.contains("layers 0-4: covered (0-4 x1)"), table.out);
        assertTrue(table.out.contains(" 0-2 ") && table.out.contains(" 2-4 "), table.out);
    }

    @Test
    void threeAutoNodesSplitTheLayers() throws Exception {
        cluster.vision();
        startAutoNodes(3);
        cluster.awaitPipelines(1);
        assertEquals(List.of("0-2", "2-3", "3-4"), llmRanges());
        TINY.assertGreedyPrefix(0, askImageCase());
    }

    @Test
    void anAutoNodeMovesToCloseTheGapALeavingNodeLeft() throws Exception {
        List<LlmNode> nodes = startAutoNodes(3);
        cluster.awaitPipelines(1);
        LlmNode middle = nodes.stream().filter(n -> n.layers().toString().equals("2-3")).findFirst().orElseThrow();
        middle.close();
        cluster.awaitPipelines(0);
        // the leader re-plans; one of the two others loads the missing layer along with its own and swaps it in
        cluster.awaitPipelines(1);
        assertEquals(2, llmRanges().size());
        TINY.assertGreedyPrefix(1, askTextCase());
    }

    @Test
    void overTheConcurrencyLimitIsResourceExhaustedWithARetryHint() throws Exception {
        cluster.close();
        cluster = new TestCluster(zookeeper);
        cluster.coordinator(model, config -> config.withLimits(1, 0));
        cluster.llm("0-4");
        cluster.awaitPipelines(1);
        Iterator<GenerateResponse> running = cluster.client().generate(Streams.request(TINY.question(1), null, 2000,
                false));
        running.next(); // admitted and decoding
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> askTextCase());
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("retry in about"), e.getStatus().getDescription());
        assertNotNull(e.getTrailers().get(AdmissionControl.RETRY_AFTER_MS));
    }

    /** Auto nodes wait for their assignment, so they start together, as a deployment would start them. */
    private List<LlmNode> startAutoNodes(int count) throws Exception {
        Thread[] starters = new Thread[count];
        Exception[] failures = new Exception[count];
        LlmNode[] nodes = new LlmNode[count];
        for (int i = 0; i < count; i++) {
            int index = i;
            starters[i] = new Thread(() -> {
                try {
                    nodes[index] = cluster.llm("auto");
                } catch (Exception e) {
                    failures[index] = e;
                }
            });
            starters[i].start();
        }
        for (int i = 0; i < count; i++) {
            starters[i].join();
            if (failures[i] != null) {
                throw failures[i];
            }
        }
        return List.of(nodes);
    }

    private int[] askTextCase() {
        return Streams.collect(cluster.client().generate(Streams.request(TINY.question(1), null, 6, false))).tokens();
    }

    private int[] askImageCase() throws Exception {
        return Streams.collect(cluster.client().generate(
                Streams.request(TINY.question(0), Files.readAllBytes(TINY.image()), 12, false))).tokens();
    }

    private ClusterStatus status() {
        return cluster.client().getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    }

    private List<String> llmRanges() {
        return status().getNodesList().stream().filter(n -> n.getRole() == NodeStatus.Role.LLM)
                .map(n -> n.getLayers().getStart() + "-" + n.getLayers().getEnd()).sorted().toList();
    }
}
