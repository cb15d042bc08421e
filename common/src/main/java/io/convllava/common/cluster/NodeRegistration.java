package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * Publishes one node's {@link NodeInfo} as the ephemeral znode {@code members/<nodeId>} for as long as the node
 * runs, on an EPHEMERAL {@link PersistentNode}: it survives reconnects and is created again after the session
 * expired.
 *
 * <p>Connection states: SUSPENDED and LOST are logged and make {@link #isConnected()} false (the node should take
 * no new work: the cluster may already consider it gone); RECONNECTED makes it true again, and when the session
 * changed, a member znode still owned by the old session is deleted so that it comes back owned by ours (otherwise
 * it would vanish when the old session finally expires). The same check runs after the initial create, for the
 * leftover of a previous run of this node.
 */
public final class NodeRegistration implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeRegistration.class);
    /** How long {@link #close()} waits for ZooKeeper to confirm that the member znode is gone. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(3);

    private final CuratorFramework client;
    private final String path;
    private final PersistentNode node;
    private final AtomicReference<NodeInfo> info;
    private final ConnectionStateListener connectionListener = (c, newState) -> onConnection(newState);
    private volatile boolean connected = true;

    public NodeRegistration(CuratorFramework client, ZkLayout layout, NodeInfo info) {
        this.client = client;
        this.path = layout.member(info.nodeId());
        this.info = new AtomicReference<>(info);
        this.node = new PersistentNode(client, CreateMode.EPHEMERAL, false, path, info.toJson());
    }

    /** Starts creating the member znode in the background; see {@link #waitForInitialCreate}. */
    public void start() {
        client.getConnectionStateListenable().addListener(connectionListener);
        node.start();
    }

    /** Waits until the member znode has been created (or taken over); false on timeout. */
    public boolean waitForInitialCreate(Duration timeout) throws InterruptedException {
        boolean created = node.waitForInitialCreate(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (created) {
            evictStaleNode();
        }
        return created;
    }

    /** The ZooKeeper client it publishes through. */
    public CuratorFramework client() {
        return client;
    }

    /** The data currently published (or to be published). */
    public NodeInfo info() {
        return info.get();
    }

    /** Whether the ZooKeeper connection is up; false while SUSPENDED or LOST. */
    public boolean isConnected() {
        return connected;
    }

    /** The member znode path. */
    public String path() {
        return path;
    }

    /** Republishes the load; a no-op when it did not change. */
    public void updateLoad(int activeSessions, int queuedRequests) {
        update(current -> current.withLoad(activeSessions, queuedRequests));
    }

    /** Republishes the node with the layers it has now loaded. */
    public void assignLayers(LayerRange layers) {
        update(current -> current.withLayers(layers));
    }

    /**
     * Republishes {@code change(current)}; a no-op when it did not change. Node id, incarnation and role are fixed.
     *
     * @throws IllegalStateException before the initial create completed
     */
    public void update(UnaryOperator<NodeInfo> change) {
        if (node.getActualPath() == null) {
            throw new IllegalStateException("member znode " + path
                    + " is not created yet: call waitForInitialCreate before updating it");
        }
        NodeInfo before;
        NodeInfo after;
        synchronized (info) {
            before = info.get();
            after = change.apply(before);
            if (!after.nodeId().equals(before.nodeId()) || !after.incarnation().equals(before.incarnation())
                    || after.role() != before.role()) {
                throw new IllegalArgumentException("member znode " + path
                        + ": node id, incarnation and role cannot change; register a new node instead");
            }
            if (after.equals(before)) {
                return;
            }
            info.set(after);
            try {
                node.setData(after.toJson());
            } catch (Exception e) {
                throw new IllegalStateException("cannot update member znode " + path + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Deletes the member znode, waiting at most {@link #CLOSE_WAIT}: with ZooKeeper unreachable, Curator would retry
     * the delete for half a minute and more, and stopping a node must stay quick. The znode is ephemeral, so it goes
     * anyway when the session ends.
     */
    @Override
    public void close() throws IOException {
        client.getConnectionStateListenable().removeListener(connectionListener);
        CompletableFuture<Void> deleted = new CompletableFuture<>();
        Thread deleting = new Thread(() -> {
            try {
                node.close();
                deleted.complete(null);
            } catch (IOException | RuntimeException e) {
                deleted.completeExceptionally(e);
            }
        }, "leave-" + path);
        deleting.setDaemon(true);
        deleting.start();
        try {
            deleted.get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{}: ZooKeeper did not confirm the delete within {} s; the member znode goes when the session"
                    + " ends", path, CLOSE_WAIT.toSeconds());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io
                    : new IOException("cannot delete member znode " + path, e.getCause());
        }
    }

    private void onConnection(ConnectionState newState) {
        switch (newState) {
            case SUSPENDED -> {
                connected = false;
                LOG.warn("{}: ZooKeeper connection suspended; take no new work until it is back", path);
            }
            case LOST -> {
                connected = false;
                LOG.warn("{}: ZooKeeper session lost; the cluster no longer sees this node until it re-registers",
                        path);
            }
            case RECONNECTED -> {
                connected = true;
                LOG.info("{}: ZooKeeper connection back; re-registering", path);
                evictStaleNode();
            }
            case CONNECTED -> connected = true;
            case READ_ONLY -> connected = false;
        }
    }

    /** In the background: deletes the member znode if another (older) session owns it; PersistentNode recreates it. */
    private void evictStaleNode() {
        try {
            client.checkExists().inBackground(this::onStaleCheck).forPath(path);
        } catch (Exception e) {
            LOG.warn("{}: cannot check the owner of the member znode", path, e);
        }
    }

    private void onStaleCheck(CuratorFramework c, CuratorEvent event) throws Exception {
        Stat stat = event.getStat();
        if (event.getResultCode() != KeeperException.Code.OK.intValue() || stat == null) {
            return;
        }
        long ourSession = client.getZookeeperClient().getZooKeeper().getSessionId();
        if (stat.getEphemeralOwner() == ourSession) {
            return;
        }
        LOG.info("{}: member znode owned by an old session {}; replacing it",
                path, Long.toHexString(stat.getEphemeralOwner()));
        client.delete().withVersion(stat.getVersion()).inBackground((c2, deleted) -> {
            if (deleted.getResultCode() == KeeperException.Code.BADVERSION.intValue()) {
                evictStaleNode();
            }
        }).forPath(path);
    }
}
