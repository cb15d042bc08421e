package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.curator.retry.ExponentialBackoffRetry;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Curator clients with the cluster's settings. */
public final class Zk {
    /** Above the worst GC pause, so a pause does not expire the session (Curator TN10). */
    public static final Duration SESSION_TIMEOUT = Duration.ofSeconds(15);
    public static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(5);

    private Zk() {
    }

    /** {@link #newClient(String, Duration)} waiting {@link #CONNECTION_TIMEOUT} for the first connection. */
    public static CuratorFramework newClient(String connectString) {
        return newClient(connectString, CONNECTION_TIMEOUT);
    }

    /**
     * A started client, connected to ZooKeeper. Retries with exponential backoff; only a LOST session (not a
     * SUSPENDED connection) counts as an error for recipes such as LeaderLatch, so a short network blip does not
     * cost the leadership.
     *
     * @throws ZkUnavailableException when no connection is made within {@code waitForConnection}
     */
    public static CuratorFramework newClient(String connectString, Duration waitForConnection) {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .sessionTimeoutMs((int) SESSION_TIMEOUT.toMillis())
                .connectionTimeoutMs((int) CONNECTION_TIMEOUT.toMillis())
                .retryPolicy(new ExponentialBackoffRetry(200, 10, 5_000))
                .connectionStateErrorPolicy(new SessionConnectionStateErrorPolicy())
                .build();
        client.start();
        boolean connected;
        try {
            connected = client.blockUntilConnected((int) waitForConnection.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connected = false;
        }
        if (!connected) {
            client.close();
            long ms = waitForConnection.toMillis();
            String waited = ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
            throw new ZkUnavailableException("cannot reach ZooKeeper at " + connectString + " within " + waited
                    + ": start one with ./convllava zookeeper");
        }
        return client;
    }
}
