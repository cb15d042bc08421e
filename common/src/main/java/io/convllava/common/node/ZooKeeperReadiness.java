package io.convllava.common.node;

import io.convllava.common.transport.Readiness;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;

import java.io.Closeable;

/**
 * Keeps a node NOT_SERVING while its ZooKeeper connection is SUSPENDED or its session LOST: the cluster may already
 * count it gone (its membership lapses with the session), so it should get no new work until RECONNECTED.
 */
public final class ZooKeeperReadiness implements Closeable {
    static final String CONDITION = "zookeeper";

    private final CuratorFramework client;
    private final Readiness readiness;
    private final ConnectionStateListener listener = (c, state) -> onState(state);

    public ZooKeeperReadiness(CuratorFramework client, Readiness readiness) {
        this.client = client;
        this.readiness = readiness;
    }

    public ZooKeeperReadiness start() {
        client.getConnectionStateListenable().addListener(listener);
        if (!client.getZookeeperClient().isConnected()) {
            onState(ConnectionState.SUSPENDED);
        }
        return this;
    }

    private void onState(ConnectionState state) {
        switch (state) {
            case SUSPENDED -> readiness.set(CONDITION, false, "ZooKeeper connection suspended (at "
                    + client.getZookeeperClient().getCurrentConnectionString() + ")");
            case LOST -> readiness.set(CONDITION, false, "ZooKeeper session lost");
            case CONNECTED, RECONNECTED -> readiness.set(CONDITION, true, null);
            default -> {
                // READ_ONLY: not used by this cluster
            }
        }
    }

    @Override
    public void close() {
        client.getConnectionStateListenable().removeListener(listener);
    }
}
