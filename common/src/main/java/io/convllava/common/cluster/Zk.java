package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.curator.retry.ExponentialBackoffRetry;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Curator clients with the cluster's settings. */
public final class Zk {
    /**
     * System property with the session timeout in milliseconds: how long ZooKeeper keeps a node's session (and its
     * member znode) while it hears nothing from it. Tests shorten it to make sessions expire quickly.
     */
    public static final String SESSION_TIMEOUT_PROPERTY = "convllava.zk.sessionTimeoutMs";
    /** Above the worst GC pause, so a pause does not expire the session (Curator TN10). */
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(15);
    static final Duration MIN_SESSION_TIMEOUT = Duration.ofSeconds(1);
    static final Duration MAX_SESSION_TIMEOUT = Duration.ofMinutes(10);
    public static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(5);

    private Zk() {
    }

    /**
     * The session timeout asked of ZooKeeper: {@value #SESSION_TIMEOUT_PROPERTY} or 15 s. The server may move it
     * into its own bounds (2 to 20 ticks).
     *
     * @throws IllegalArgumentException when the property is not a whole number of milliseconds from 1000 to 600000
     */
    public static Duration sessionTimeout() {
        String value = System.getProperty(SESSION_TIMEOUT_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_SESSION_TIMEOUT;
        }
        long ms;
        try {
            ms = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            ms = -1;
        }
        if (ms < MIN_SESSION_TIMEOUT.toMillis() || ms > MAX_SESSION_TIMEOUT.toMillis()) {
            throw new IllegalArgumentException("system property " + SESSION_TIMEOUT_PROPERTY + " must be a whole"
                    + " number of milliseconds from " + MIN_SESSION_TIMEOUT.toMillis() + " to "
                    + MAX_SESSION_TIMEOUT.toMillis() + ", got '" + value + "' (leave it out for the default "
                    + DEFAULT_SESSION_TIMEOUT.toMillis() + ")");
        }
        return Duration.ofMillis(ms);
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
                .sessionTimeoutMs((int) sessionTimeout().toMillis())
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
