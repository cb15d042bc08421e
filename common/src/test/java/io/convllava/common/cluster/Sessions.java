package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Test helper: ends a client's ZooKeeper session on the server, as when its session times out. */
final class Sessions {
    private Sessions() {
    }

    /**
     * Attaches a second handle to the client's session and closes it: the server ends the session at once and
     * deletes its ephemeral znodes; the client then sees the expiry when it reconnects. (Curator's
     * {@code KillSession} only expires the session on the client side; the server keeps its ephemerals until the
     * session times out.)
     */
    static void expireOnServer(CuratorFramework client, String connectString) throws Exception {
        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper imposter = new ZooKeeper(connectString, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        }, zk.getSessionId(), zk.getSessionPasswd());
        try {
            if (!connected.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("could not attach to session " + Long.toHexString(zk.getSessionId()));
            }
        } finally {
            imposter.close();
        }
    }

    static long sessionId(CuratorFramework client) throws Exception {
        return client.getZookeeperClient().getZooKeeper().getSessionId();
    }
}
