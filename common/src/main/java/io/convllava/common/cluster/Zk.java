package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

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
    /** How long one attempt of {@link #connect} waits for a connection. */
    static final Duration ATTEMPT_WAIT = Duration.ofSeconds(2);
    static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
    static final Duration MAX_PAUSE = Duration.ofSeconds(16);

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

    /** {@link #newClient(String, Duration, ZkAuth)} without a credential. */
    public static CuratorFramework newClient(String connectString, Duration waitForConnection) {
        return newClient(connectString, waitForConnection, null);
    }

    /**
     * A started client, connected to ZooKeeper. Retries with exponential backoff; only a LOST session (not a
     * SUSPENDED connection) counts as an error for recipes such as LeaderLatch, so a short network blip does not
     * cost the leadership. With {@code auth} (may be null) it authenticates with it and creates every znode with
     * its ACL ({@link ZkAuth#aclProvider()}), parents included.
     *
     * @throws ZkUnavailableException when no connection is made within {@code waitForConnection}
     */
    public static CuratorFramework newClient(String connectString, Duration waitForConnection, ZkAuth auth) {
        CuratorFramework client = tryConnect(connectString, waitForConnection, auth);
        if (client == null) {
            throw new ZkUnavailableException("cannot reach ZooKeeper at " + connectString + " within "
                    + format(waitForConnection) + ": start one with ./convllava zookeeper");
        }
        return client;
    }

    /**
     * {@link #newClient(String, Duration)} for a node starting up, when ZooKeeper may come up after it: attempts of
     * {@link #ATTEMPT_WAIT} each, each with a fresh client (so a host name that resolves only later is found), with
     * pauses between them doubling from {@link #FIRST_PAUSE} up to {@link #MAX_PAUSE}, until {@code wait} is over.
     * {@code progress} is told about each failed attempt.
     *
     * @throws ZkUnavailableException when no attempt connects within {@code wait}
     */
    public static CuratorFramework connect(String connectString, Duration wait, Consumer<String> progress)
            throws InterruptedException {
        return connect(connectString, wait, null, progress);
    }

    /** {@link #connect(String, Duration, Consumer)} with the credential {@code auth} (may be null). */
    public static CuratorFramework connect(String connectString, Duration wait, ZkAuth auth,
                                           Consumer<String> progress) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + wait.toNanos();
        Duration pause = FIRST_PAUSE;
        for (int attempt = 1; ; attempt++) {
            long left = deadline - System.nanoTime();
            Duration attemptWait = Duration.ofNanos(Math.max(Math.min(ATTEMPT_WAIT.toNanos(), left),
                    TimeUnit.MILLISECONDS.toNanos(100)));
            CuratorFramework client = tryConnect(connectString, attemptWait, auth);
            if (client != null) {
                if (attempt > 1) {
                    progress.accept("ZooKeeper at " + connectString + " reached at attempt " + attempt + " after "
                            + format(Duration.ofNanos(System.nanoTime() - start)));
                }
                return client;
            }
            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new ZkUnavailableException("cannot reach ZooKeeper at " + connectString + ": gave up after "
                        + attempt + " attempt" + (attempt == 1 ? "" : "s") + " in " + format(waited) + "; start"
                        + " ZooKeeper there (./convllava zookeeper), check --zk, or wait longer with --zk-wait");
            }
            Duration sleep = Duration.ofNanos(Math.min(pause.toNanos(), left));
            progress.accept("ZooKeeper at " + connectString + " not reachable (attempt " + attempt + ", "
                    + format(waited) + " of " + format(wait) + "); retrying in " + format(sleep));
            Thread.sleep(sleep.toMillis());
            pause = pause.multipliedBy(2).compareTo(MAX_PAUSE) > 0 ? MAX_PAUSE : pause.multipliedBy(2);
        }
    }

    /** A started client connected within {@code wait}, or null (the client closed again). */
    private static CuratorFramework tryConnect(String connectString, Duration wait, ZkAuth auth) {
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .sessionTimeoutMs((int) sessionTimeout().toMillis())
                .connectionTimeoutMs((int) CONNECTION_TIMEOUT.toMillis())
                .retryPolicy(new ExponentialBackoffRetry(200, 10, 5_000))
                .connectionStateErrorPolicy(new SessionConnectionStateErrorPolicy());
        if (auth != null) {
            builder.authorization(ZkAuth.SCHEME, auth.authBytes()).aclProvider(auth.aclProvider());
        }
        CuratorFramework client = builder.build();
        client.start();
        boolean connected;
        try {
            connected = client.blockUntilConnected((int) wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connected = false;
        }
        if (!connected) {
            client.close();
            return null;
        }
        return client;
    }

    /**
     * Checks, right after connecting, that this client may use cluster {@code layout} as ZooKeeper holds it: that it
     * may read the members (a protected cluster refuses a client without its credential or with another one), and,
     * with {@code auth}, that no znode of the cluster lets anyone (world) change it, as those left by a run without
     * a credential do: members and plan would stay open to anyone, credential or not. An absent cluster passes.
     *
     * @throws ZkAccessException saying which znode is at fault and what to do
     */
    public static void checkAccess(CuratorFramework client, String connectString, ZkLayout layout, ZkAuth auth)
            throws Exception {
        String members = layout.members();
        try {
            client.getChildren().forPath(members);
        } catch (KeeperException.NoNodeException e) {
            // not created yet
        } catch (KeeperException.NoAuthException e) {
            throw new ZkAccessException(auth == null
                    ? "ZooKeeper at " + connectString + " refuses to show cluster '" + layout.cluster() + "' ("
                            + members + ") without a credential: the cluster is protected, give its credential with"
                            + " --zk-auth-file"
                    : "ZooKeeper at " + connectString + " refuses " + auth + " to read cluster '" + layout.cluster()
                            + "' (" + members + "): its znodes were created with another credential");
        }
        if (auth == null) {
            return;
        }
        for (String path : List.of(layout.root(), members, layout.plan(), layout.leader())) {
            List<ACL> acl;
            try {
                acl = client.getACL().forPath(path);
            } catch (KeeperException.NoNodeException e) {
                continue;
            }
            for (ACL entry : acl) {
                boolean beyondRead = (entry.getPerms() & ~ZooDefs.Perms.READ) != 0;
                if (entry.getId().equals(ZooDefs.Ids.ANYONE_ID_UNSAFE) && beyondRead) {
                    throw new ZkAccessException("znode " + path + " in ZooKeeper at " + connectString + " lets anyone"
                            + " change it (ACL " + entry.getId().getScheme() + ":" + entry.getId().getId() + " "
                            + permissions(entry.getPerms()) + "), so a credential cannot protect cluster '"
                            + layout.cluster() + "': it was created without one. Delete the cluster's znodes while"
                            + " no node runs (zkCli.sh deleteall " + layout.root() + ") or use another --cluster");
                }
            }
        }
    }

    /** ZooKeeper's letters: c(reate) d(elete) r(ead) w(rite) a(dmin). */
    static String permissions(int perms) {
        StringBuilder s = new StringBuilder();
        s.append((perms & ZooDefs.Perms.CREATE) != 0 ? 'c' : '-');
        s.append((perms & ZooDefs.Perms.DELETE) != 0 ? 'd' : '-');
        s.append((perms & ZooDefs.Perms.READ) != 0 ? 'r' : '-');
        s.append((perms & ZooDefs.Perms.WRITE) != 0 ? 'w' : '-');
        s.append((perms & ZooDefs.Perms.ADMIN) != 0 ? 'a' : '-');
        return s.toString();
    }

    /** 500ms, 2.5s, 60s. */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0 && ms < 10_000) {
            return ms < 1000 ? ms + "ms" : String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
        }
        return Math.round(ms / 1000.0) + "s";
    }
}
