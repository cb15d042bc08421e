package io.convllava.common.cluster;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInfo;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.convllava.common.cluster.TestZooKeeper.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlanLeaderTest {
    private static final Duration SETTLE = Duration.ofMillis(100);
    @RegisterExtension
    static final TestZooKeeper zooKeeper = new TestZooKeeper();

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final SnapshotWaiter observed = new SnapshotWaiter();
    private ZkLayout layout;
    private CuratorFramework nodeClient;

    @BeforeEach
    void observe(TestInfo test) throws Exception {
        layout = new ZkLayout(test.getTestMethod().orElseThrow().getName());
        nodeClient = open(zooKeeper.newClient());
        ClusterView observer = view(nodeClient);
        observer.addListener(observed);
    }

    @AfterEach
    void closeAll() throws Exception {
        while (!resources.isEmpty()) {
            resources.pop().close();
        }
    }

    @Test
    void oneOfTwoCandidatesLeadsAndPlansAutoNodes() throws Exception {
        // registered before any leader runs, so they are planned together however slow the machine
        register(Members.auto("llm-1", 4));
        register(Members.auto("llm-2", 4));
        Coordinator a = coordinator("coord-a");
        Coordinator b = coordinator("coord-b");
        ClusterSnapshot planned = observed.await(s -> s.plan().assignments().size() == 2, WAIT, "a plan for 2 nodes");
        assertEquals(Map.of("llm-1", new LayerRange(0, 2), "llm-2", new LayerRange(2, 4)),
                planned.plan().assignments());
        assertNotEquals(a.leader.hasLeadership(), b.leader.hasLeadership(), "exactly one leader");

        register(Members.auto("llm-3", 4));
        ClusterSnapshot replica = observed.await(s -> s.plan().assignments().size() == 3, WAIT, "llm-3 planned");
        assertEquals(Map.of("llm-1", new LayerRange(0, 2), "llm-2", new LayerRange(2, 4),
                "llm-3", new LayerRange(0, 4)), replica.plan().assignments(), "live nodes keep their ranges");
        assertTrue(replica.plan().epoch() > planned.plan().epoch());
        assertEpochsGrowWithEveryPlanChange();
    }

    @Test
    void aViewChangeToldWhileTheLeaderClosesIsDropped() throws Exception {
        CuratorFramework client = open(zooKeeper.newClient());
        ClusterView view = view(client);
        CountDownLatch telling = new CountDownLatch(1);
        CountDownLatch leaderClosed = new CountDownLatch(1);
        view.addListener(snapshot -> { // told before the leader's listener: holds the view's thread meanwhile
            if (snapshot.member("llm-9").isPresent() && telling.getCount() > 0) {
                telling.countDown();
                awaitQuietly(leaderClosed);
            }
        });
        PlanLeader leader = new PlanLeader(client, layout, view, "coord-z", SETTLE);
        leader.start();
        Logger viewLog = (Logger) LoggerFactory.getLogger(ClusterView.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        viewLog.addAppender(logged);
        try {
            register(Members.auto("llm-9", 4));
            assertTrue(telling.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the view tells of llm-9");
            leader.close();
            leaderClosed.countDown();
            view.close(); // waits for the view's thread to finish telling its listeners, the closed leader's too
        } finally {
            viewLog.detachAppender(logged);
        }
        assertEquals(List.of(), logged.list.stream().filter(e -> e.getLevel() == Level.ERROR)
                .map(ILoggingEvent::getFormattedMessage).toList(), "a listener failed");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void theOtherCandidateTakesOverWhenTheLeaderCloses() throws Exception {
        Election election = twoCandidatesPlanOneNode();
        election.leader.close();
        assertTrue(election.follower.leader.awaitLeadership(WAIT), "the follower takes over");

        register(Members.auto("llm-2", 4));
        ClusterSnapshot next = observed.await(s -> s.plan().assignments().size() == 2, WAIT, "the new leader's plan");
        assertTrue(next.plan().epoch() > election.firstEpoch);
        assertEpochsGrowWithEveryPlanChange();
    }

    @Test
    void leadershipMovesWhenTheLeadersSessionExpires() throws Exception {
        Election election = twoCandidatesPlanOneNode();
        Sessions.expireOnServer(election.leader.client, zooKeeper.connectString());
        assertTrue(election.follower.leader.awaitLeadership(WAIT), "the follower takes over");
        register(Members.auto("llm-2", 4));
        observed.await(s -> s.plan().assignments().size() == 2, WAIT, "a plan for both nodes");
        assertEpochsGrowWithEveryPlanChange();
    }

    @Test
    void autoNodesLoadTheirAssignmentAndFormAPipeline() throws Exception {
        for (String id : List.of("llm-1", "llm-2", "llm-3")) {
            NodeRegistration registration = register(Members.auto(id, 32));
            AssignmentWatcher watcher = open(new AssignmentWatcher(view(nodeClient), id,
                    assignment -> registration.assignLayers(assignment.layers())));
            watcher.start();
        }
        coordinator("coord-a");
        ClusterSnapshot ready = observed.await(s -> PipelineAssembler.assemble(s).hasPipeline(), WAIT,
                "a complete pipeline");
        PipelineAssembly assembly = PipelineAssembler.assemble(ready);
        assertEquals(List.of("llm-1", "llm-2", "llm-3"), assembly.pipelines().get(0).nodeIds());
        assertEquals("0-32 x1", assembly.coverage().toString());
    }

    /** ZooKeeper restarted without its data (the plan znode is gone): the next plan still has a higher epoch. */
    @Test
    void epochsKeepGrowingWhenZooKeeperLosesThePlan() throws Exception {
        Election election = twoCandidatesPlanOneNode();
        nodeClient.delete().forPath(layout.plan());
        observed.await(s -> !s.plan().isPublished(), WAIT, "the plan gone");
        register(Members.auto("llm-2", 4));
        ClusterSnapshot next = observed.await(s -> s.plan().assignments().size() == 2, WAIT, "a plan for both nodes");
        assertTrue(next.plan().epoch() > election.firstEpoch, "epoch " + next.plan().epoch() + " after "
                + election.firstEpoch);
    }

    private void assertEpochsGrowWithEveryPlanChange() {
        ShardPlan previous = ShardPlan.NONE;
        for (ClusterSnapshot s : observed.seen()) {
            ShardPlan plan = s.plan();
            assertTrue(plan.epoch() >= previous.epoch(), "epoch went back: " + previous + " then " + plan);
            if (!plan.sameLayout(previous)) {
                assertTrue(plan.epoch() > previous.epoch(), "plan changed without a new epoch: " + plan);
            }
            previous = plan;
        }
    }

    /** Two candidates, and one auto node for them to plan: who leads once the first plan is out, and its epoch. */
    private Election twoCandidatesPlanOneNode() throws Exception {
        Coordinator a = coordinator("coord-a");
        Coordinator b = coordinator("coord-b");
        register(Members.auto("llm-1", 4));
        long first = observed.await(s -> s.plan().isPublished(), WAIT, "the first plan").plan().epoch();
        Coordinator leader = a.leader.hasLeadership() ? a : b;
        return new Election(leader, leader == a ? b : a, first);
    }

    private Coordinator coordinator(String id) throws Exception {
        CuratorFramework client = zooKeeper.newClient();
        ClusterView view = new ClusterView(client, layout);
        view.start();
        PlanLeader leader = new PlanLeader(client, layout, view, id, SETTLE);
        leader.start();
        return open(new Coordinator(client, view, leader));
    }

    private NodeRegistration register(NodeInfo info) throws InterruptedException {
        NodeRegistration registration = open(new NodeRegistration(nodeClient, layout, info));
        registration.start();
        assertTrue(registration.waitForInitialCreate(WAIT));
        return registration;
    }

    private ClusterView view(CuratorFramework client) throws Exception {
        ClusterView view = open(new ClusterView(client, layout));
        view.start();
        return view;
    }

    private <T extends AutoCloseable> T open(T resource) {
        resources.push(resource);
        return resource;
    }

    private record Election(Coordinator leader, Coordinator follower, long firstEpoch) {
    }

    /** One coordinator's coordination pieces; closing twice is harmless. */
    private record Coordinator(CuratorFramework client, ClusterView view, PlanLeader leader) implements Closeable {
        @Override
        public void close() throws IOException {
            if (client.getState() == CuratorFrameworkState.STARTED) {
                leader.close();
                view.close();
                client.close();
            }
        }
    }
}
