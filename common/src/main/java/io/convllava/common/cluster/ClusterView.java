package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Watches the members and the plan of a cluster and keeps an immutable {@link ClusterSnapshot} of them.
 *
 * <p>Two {@link CuratorCache}s (members/, plan) feed one event thread, which rebuilds the snapshot and calls the
 * listeners in order, once per change. A member whose znode goes away (node closed or its session expired) is gone
 * from the next snapshot. Members whose data does not parse are left out (and logged once per znode version).
 *
 * <p>Connection states: SUSPENDED and LOST keep the last snapshot but mark it {@code connected = false} (never
 * publish an empty membership because ZooKeeper is unreachable); RECONNECTED marks it connected again, and the
 * caches resynchronise on their own, so members that left meanwhile disappear then.
 */
public final class ClusterView implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);

    /** Called on the view's event thread with every new snapshot; hand long work to another thread. */
    @FunctionalInterface
    public interface Listener {
        void clusterChanged(ClusterSnapshot snapshot);
    }

    private enum State { LATENT, STARTED, CLOSED }

    private final CuratorFramework client;
    private final ZkLayout layout;
    private final CuratorCache memberCache;
    private final CuratorCache planCache;
    private final ExecutorService events;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final CountDownLatch initialized = new CountDownLatch(2);
    /** Counted down after the first snapshot is published, so awaitInitialized() callers see it in snapshot(). */
    private final CountDownLatch firstSnapshot = new CountDownLatch(1);
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final ConnectionStateListener connectionListener = (c, newState) -> submit(() -> onConnection(newState));
    private final Set<String> reportedBadData = new HashSet<>();
    private volatile ClusterSnapshot snapshot = ClusterSnapshot.EMPTY;
    private boolean connected = true;

    public ClusterView(CuratorFramework client, ZkLayout layout) {
        this.client = client;
        this.layout = layout;
        this.memberCache = CuratorCache.build(client, layout.members());
        this.planCache = CuratorCache.build(client, layout.plan(), CuratorCache.Options.SINGLE_NODE_CACHE);
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cluster-view-" + layout.cluster());
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts watching; the first snapshot is published once both caches have loaded. */
    public void start() throws Exception {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("cluster view of '" + layout.cluster() + "' already started");
        }
        client.createContainers(layout.members());
        client.getConnectionStateListenable().addListener(connectionListener);
        CuratorCacheListener onChange = CuratorCacheListener.builder()
                .forAll((type, oldData, data) -> rebuild())
                .forInitialized(this::cacheInitialized)
                .build();
        memberCache.listenable().addListener(onChange, events);
        planCache.listenable().addListener(onChange, events);
        memberCache.start();
        planCache.start();
    }

    /** Waits until members and plan have been loaded once; false on timeout. */
    public boolean awaitInitialized(Duration timeout) throws InterruptedException {
        return firstSnapshot.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public ClusterSnapshot snapshot() {
        return snapshot;
    }

    /**
     * Adds a listener; once the view is initialized it first gets the current snapshot, then every change, all on
     * the event thread.
     */
    public void addListener(Listener listener) {
        submit(() -> {
            listeners.add(listener);
            if (initialized.getCount() == 0) {
                notify(listener, snapshot);
            }
        });
    }

    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) != State.STARTED) {
            events.shutdownNow();
            return;
        }
        client.getConnectionStateListenable().removeListener(connectionListener);
        memberCache.close();
        planCache.close();
        listeners.clear();
        events.shutdown();
        try {
            events.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void submit(Runnable task) {
        if (state.get() == State.CLOSED) {
            return;
        }
        events.execute(task);
    }

    private void cacheInitialized() {
        initialized.countDown();
        if (initialized.getCount() == 0) {
            publish(snapshot.next(connected, readMembers(), readPlan()), true);
            firstSnapshot.countDown();
        }
    }

    private void onConnection(ConnectionState newState) {
        switch (newState) {
            case SUSPENDED, LOST -> {
                LOG.warn("cluster '{}': ZooKeeper connection {}; keeping the last view, marked stale",
                        layout.cluster(), newState);
                connected = false;
            }
            case CONNECTED, RECONNECTED -> connected = true;
            case READ_ONLY -> connected = false;
        }
        rebuild();
    }

    private void rebuild() {
        if (initialized.getCount() == 0) {
            publish(snapshot.next(connected, readMembers(), readPlan()), false);
        }
    }

    private void publish(ClusterSnapshot next, boolean always) {
        if (!always && next.sameContent(snapshot)) {
            return;
        }
        snapshot = next;
        for (Listener listener : listeners) {
            notify(listener, next);
        }
    }

    private static void notify(Listener listener, ClusterSnapshot s) {
        try {
            listener.clusterChanged(s);
        } catch (RuntimeException e) {
            LOG.error("cluster view listener {} failed", listener, e);
        }
    }

    private SortedMap<String, NodeInfo> readMembers() {
        SortedMap<String, NodeInfo> members = new TreeMap<>();
        memberCache.stream()
                .filter(d -> layout.members().equals(ZKPaths.getPathAndNode(d.getPath()).getPath()))
                .forEach(d -> {
                    NodeInfo info = parse(d, NodeInfo::fromJson);
                    String name = ZKPaths.getNodeFromPath(d.getPath());
                    if (info != null && !info.nodeId().equals(name)) {
                        reportOnce(d, "member znode " + d.getPath() + " holds node id '" + info.nodeId() + "'");
                    } else if (info != null) {
                        members.put(name, info);
                    }
                });
        return members;
    }

    private ShardPlan readPlan() {
        ShardPlan plan = planCache.get(layout.plan()).map(d -> parse(d, ShardPlan::fromJson)).orElse(null);
        return plan == null ? ShardPlan.NONE : plan;
    }

    private interface Parser<T> {
        T parse(byte[] data, String source);
    }

    private <T> T parse(ChildData data, Parser<T> parser) {
        try {
            return parser.parse(data.getData() == null ? new byte[0] : data.getData(), data.getPath());
        } catch (IllegalArgumentException e) {
            reportOnce(data, e.getMessage());
            return null;
        }
    }

    private void reportOnce(ChildData data, String problem) {
        long version = data.getStat() == null ? -1 : data.getStat().getMzxid();
        if (reportedBadData.add(data.getPath() + "@" + version)) {
            LOG.warn("cluster '{}': ignoring {}", layout.cluster(), problem);
        }
    }
}
