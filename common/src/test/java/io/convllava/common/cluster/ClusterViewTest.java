package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static io.convllava.common.cluster.TestZooKeeper.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterViewTest {
    @RegisterExtension
    static final TestZooKeeper zooKeeper = new TestZooKeeper();

    private CuratorFramework viewClient;
    private CuratorFramework nodeClient;
    private ZkLayout layout;
    private ClusterView view;
    private final SnapshotWaiter waiter = new SnapshotWaiter();

    @BeforeEach
    void startView(org.junit.jupiter.api.TestInfo test) throws Exception {
        layout = new ZkLayout(test.getTestMethod().orElseThrow().getName());
        viewClient = zooKeeper.newClient();
        nodeClient = zooKeeper.newClient();
        view = new ClusterView(viewClient, layout);
        view.addListener(waiter);
        view.start();
        assertTrue(view.awaitInitialized(WAIT));
    }

    @AfterEach
    void stopView() {
        view.close();
        viewClient.close();
        nodeClient.close();
    }

    @Test
    void seesNodesJoinAndLeaveByRole() throws Exception {
        ClusterSnapshot empty = waiter.await(s -> true, WAIT, "the initial snapshot");
        assertTrue(empty.members().isEmpty());
        assertTrue(empty.connected());
        assertFalse(empty.plan().isPublished());

        NodeInfo vision = NodeInfo.vision("vision-1", "127.0.0.1", 7001, "tower", "cpu");
        NodeInfo llm = Members.auto("llm-1", 4);
        NodeInfo coordinator = NodeInfo.coordinator("coord-1", "127.0.0.1", 7003, "tiny");
        try (NodeRegistration v = register(vision); NodeRegistration l = register(llm);
             NodeRegistration c = register(coordinator)) {
            ClusterSnapshot all = waiter.await(s -> s.members().size() == 3, WAIT, "three members");
            assertEquals(List.of(vision), all.members(NodeRole.VISION));
            assertEquals(List.of(llm), all.members(NodeRole.LLM));
            assertEquals(List.of(coordinator), all.members(NodeRole.COORDINATOR));
            assertEquals(vision, all.member("vision-1").orElseThrow());

            l.close();
            ClusterSnapshot left = waiter.await(s -> s.member("llm-1").isEmpty(), WAIT, "llm-1 to leave");
            assertEquals(2, left.members().size());
            assertTrue(left.version() > all.version());
        }
        waiter.await(s -> s.members().isEmpty(), WAIT, "everyone to leave");
    }

    @Test
    void aNodeWhoseSessionExpiresLeavesAtOnceAndComesBack() throws Exception {
        try (NodeRegistration llm = register(Members.auto("llm-1", 4))) {
            waiter.await(s -> s.member("llm-1").isPresent(), WAIT, "llm-1 to join");
            Sessions.expireOnServer(nodeClient, zooKeeper.connectString());
            waiter.await(s -> s.member("llm-1").isEmpty(), WAIT, "llm-1 to leave with its session");
            waiter.await(s -> s.member("llm-1").isPresent(), WAIT, "llm-1 to re-register");
        }
    }

    @Test
    void loadUpdatesAndThePlanShowUp() throws Exception {
        try (NodeRegistration llm = register(Members.auto("llm-1", 4))) {
            llm.assignLayers(new LayerRange(0, 4));
            llm.updateLoad(2, 0);
            waiter.await(s -> s.member("llm-1").map(m -> m.activeSessions() == 2 && m.layerEnd() == 4).orElse(false),
                    WAIT, "the update");

            ShardPlan plan = new ShardPlan(1, 4, Map.of("llm-1", new LayerRange(0, 4)));
            nodeClient.create().creatingParentContainersIfNeeded().forPath(layout.plan(), plan.toJson());
            ClusterSnapshot withPlan = waiter.await(s -> s.plan().isPublished(), WAIT, "the plan");
            assertEquals(plan, withPlan.plan());
            assertTrue(PipelineAssembler.assemble(withPlan).hasPipeline());
        }
    }

    @Test
    void unreadableDataIsLeftOutNotFatal() throws Exception {
        nodeClient.create().creatingParentContainersIfNeeded()
                .forPath(layout.member("garbage"), "{nope".getBytes(StandardCharsets.UTF_8));
        nodeClient.create().forPath(layout.member("impostor"), Members.auto("someone-else", 4).toJson());
        nodeClient.create().forPath(layout.plan(), "[]".getBytes(StandardCharsets.UTF_8));
        try (NodeRegistration llm = register(Members.auto("llm-1", 4))) {
            ClusterSnapshot s = waiter.await(x -> x.member("llm-1").isPresent(), WAIT, "llm-1 to join");
            assertEquals(List.of("llm-1"), List.copyOf(s.members().keySet()));
            assertFalse(s.plan().isPublished());
        }
    }

    @Test
    void aLateListenerGetsTheCurrentSnapshotFirst() throws Exception {
        try (NodeRegistration llm = register(Members.auto("llm-1", 4))) {
            waiter.await(s -> s.member("llm-1").isPresent(), WAIT, "llm-1 to join");
            SnapshotWaiter late = new SnapshotWaiter();
            view.addListener(late);
            ClusterSnapshot first = late.await(s -> true, WAIT, "the current snapshot");
            assertTrue(first.member("llm-1").isPresent());
            view.removeListener(late);
        }
    }

    private NodeRegistration register(NodeInfo info) throws InterruptedException {
        NodeRegistration registration = new NodeRegistration(nodeClient, layout, info);
        registration.start();
        assertTrue(registration.waitForInitialCreate(WAIT));
        return registration;
    }
}
