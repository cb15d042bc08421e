package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.test.KillSession;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static io.convllava.common.cluster.TestZooKeeper.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeRegistrationTest {
    @RegisterExtension
    static final TestZooKeeper zooKeeper = new TestZooKeeper();

    private CuratorFramework nodeClient;
    private CuratorFramework observer;
    private final ZkLayout layout = new ZkLayout("registration");

    @BeforeEach
    void connect() {
        nodeClient = zooKeeper.newClient();
        observer = zooKeeper.newClient();
    }

    @AfterEach
    void disconnect() {
        nodeClient.close();
        observer.close();
    }

    @Test
    void memberZnodeAppearsIsUpdatedAndGoesAwayOnClose() throws Exception {
        NodeInfo info = NodeInfo.llm("llm-1", "127.0.0.1", 7100, "tiny", "cpu", 4, "auto");
        NodeRegistration registration = new NodeRegistration(nodeClient, layout, info);
        assertThrows(IllegalStateException.class, () -> registration.updateLoad(1, 0), "not started yet");
        registration.start();
        assertTrue(registration.waitForInitialCreate(WAIT));
        assertEquals(info, read(layout.member("llm-1")));
        Stat stat = observer.checkExists().forPath(layout.member("llm-1"));
        assertEquals(Sessions.sessionId(nodeClient), stat.getEphemeralOwner(), "ephemeral of the node's session");

        try (MemberWatch watch = new MemberWatch(observer, layout.member("llm-1"))) {
            registration.assignLayers(new LayerRange(0, 2));
            registration.updateLoad(5, 1);
            NodeInfo expected = info.withLayers(new LayerRange(0, 2)).withLoad(5, 1);
            watch.await(d -> d != null && NodeInfo.fromJson(d.getData(), "test").equals(expected), "update");
            assertEquals(expected, registration.info());

            assertThrows(IllegalArgumentException.class, () -> registration.update(
                    i -> NodeInfo.llm("llm-1", "127.0.0.1", 7100, "tiny", "cpu", 4, "auto")),
                    "a new incarnation is a new registration");

            registration.close();
            watch.await(d -> d == null, "deletion on close");
        }
        assertNull(observer.checkExists().forPath(layout.member("llm-1")));
    }

    /** Stopping a node whose ZooKeeper is gone takes seconds, not Curator's half minute of delete retries. */
    @Test
    void closeIsBoundedWhenZooKeeperIsGone() throws Exception {
        TestingServer server = new TestingServer();
        CuratorFramework client = Zk.newClient(server.getConnectString());
        try {
            NodeRegistration registration = new NodeRegistration(client, layout,
                    NodeInfo.vision("vision-9", "127.0.0.1", 7300, "tower", "cpu"));
            registration.start();
            assertTrue(registration.waitForInitialCreate(WAIT));
            server.stop();
            long start = System.nanoTime();
            registration.close();
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < NodeRegistration.CLOSE_WAIT.toSeconds() + 2, "close took " + seconds + " s");
        } finally {
            client.close();
            server.close();
        }
    }

    @Test
    void memberZnodeComesBackAfterTheSessionExpiresOnTheServer() throws Exception {
        NodeInfo info = NodeInfo.vision("vision-1", "127.0.0.1", 7200, "tower", "cpu");
        try (NodeRegistration registration = new NodeRegistration(nodeClient, layout, info);
             MemberWatch watch = new MemberWatch(observer, layout.member("vision-1"))) {
            registration.start();
            assertTrue(registration.waitForInitialCreate(WAIT));
            long before = Sessions.sessionId(nodeClient);
            watch.await(d -> d != null, "creation");

            Sessions.expireOnServer(nodeClient, zooKeeper.connectString());
            watch.await(d -> d == null, "the znode to vanish with the session");
            ChildData back = watch.await(d -> d != null && d.getStat().getEphemeralOwner() != before,
                    "the znode to come back under a new session");
            assertEquals(info, NodeInfo.fromJson(back.getData(), "test"));
            assertTrue(registration.isConnected());
        }
    }

    @Test
    void aZnodeLeftByTheOldSessionIsReplacedAfterClientSideExpiry() throws Exception {
        NodeInfo info = NodeInfo.coordinator("coord-1", "127.0.0.1", 7300, "tiny");
        try (NodeRegistration registration = new NodeRegistration(nodeClient, layout, info);
             MemberWatch watch = new MemberWatch(observer, layout.member("coord-1"))) {
            registration.start();
            assertTrue(registration.waitForInitialCreate(WAIT));
            long before = Sessions.sessionId(nodeClient);
            watch.await(d -> d != null && d.getStat().getEphemeralOwner() == before, "creation");

            // the server keeps the old session (and its znode) until it times out, 15 s later
            KillSession.kill(nodeClient.getZookeeperClient().getZooKeeper());
            watch.await(d -> d != null && d.getStat().getEphemeralOwner() != before,
                    "the znode to be re-created under the new session well before the old one times out");
            assertNotEquals(before, Sessions.sessionId(nodeClient));
        }
    }

    @Test
    void aLeftoverOfAPreviousRunIsReplacedOnStart() throws Exception {
        NodeInfo info = NodeInfo.vision("vision-2", "127.0.0.1", 7201, "tower", "cpu");
        // a previous run of this node whose session has not expired yet
        CuratorFramework previousRun = zooKeeper.newClient();
        try {
            previousRun.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL)
                    .forPath(layout.member("vision-2"), info.toJson());
            long stale = Sessions.sessionId(previousRun);
            try (NodeRegistration registration = new NodeRegistration(nodeClient, layout, info);
                 MemberWatch watch = new MemberWatch(observer, layout.member("vision-2"))) {
                registration.start();
                assertTrue(registration.waitForInitialCreate(WAIT));
                long ours = Sessions.sessionId(nodeClient);
                watch.await(d -> d != null && d.getStat().getEphemeralOwner() == ours,
                        "the znode owned by our session, not " + Long.toHexString(stale));
            }
        } finally {
            previousRun.close();
        }
    }

    private NodeInfo read(String path) throws Exception {
        return NodeInfo.fromJson(observer.getData().forPath(path), path);
    }

    /** Every state one znode went through (null = absent), from a CuratorCache of the observer. */
    private static final class MemberWatch implements AutoCloseable {
        private final CuratorCache cache;
        private final List<ChildData> states = new ArrayList<>();
        private int checked;

        MemberWatch(CuratorFramework client, String path) {
            this.cache = CuratorCache.build(client, path, CuratorCache.Options.SINGLE_NODE_CACHE);
            cache.listenable().addListener(CuratorCacheListener.builder()
                    .forAll((type, old, data) -> record(type == CuratorCacheListener.Type.NODE_DELETED ? null : data))
                    .build());
            cache.start();
        }

        private synchronized void record(ChildData data) {
            states.add(data);
            notifyAll();
        }

        /** The first state after the last one matched so far that matches {@code condition}. */
        synchronized ChildData await(Predicate<ChildData> condition, String what) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (true) {
                for (; checked < states.size(); checked++) {
                    if (condition.test(states.get(checked))) {
                        return states.get(checked++);
                    }
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new AssertionError("timed out waiting for " + what + "; states seen: " + states);
                }
                wait(left);
            }
        }

        @Override
        public void close() {
            cache.close();
        }
    }
}
