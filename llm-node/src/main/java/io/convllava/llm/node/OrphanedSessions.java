package io.convllava.llm.node;

import io.convllava.common.cluster.ClusterSnapshot;
import io.convllava.common.cluster.ClusterView;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRole;

import java.io.Closeable;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Frees the sessions of coordinators that left the cluster. A coordinator killed between two steps of a session has
 * no call in flight to cancel, so nothing else tells the stages that its sessions are over; their ids name the
 * coordinator's incarnation ({@link io.convllava.common.client.SessionOwner}). When an incarnation is gone from the
 * members (with ZooKeeper connected) and still gone after {@code grace} (a coordinator re-registering after its
 * ZooKeeper session expired keeps its incarnation and comes back), {@code release} is called with it.
 */
final class OrphanedSessions implements ClusterView.Listener, Closeable {
    static final Duration GRACE = Duration.ofSeconds(3);

    private final ClusterView view;
    private final Consumer<String> release;
    private final Duration grace;
    private final ScheduledExecutorService timer;
    // the timer thread only
    private final Set<String> known = new HashSet<>();
    private final Set<String> pending = new HashSet<>();
    private Set<String> present = Set.of();
    private boolean connected;

    OrphanedSessions(ClusterView view, Consumer<String> release, Duration grace, String nodeId) {
        this.view = view;
        this.release = release;
        this.grace = grace;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "orphaned-sessions-" + nodeId);
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        view.addListener(this);
    }

    @Override
    public void clusterChanged(ClusterSnapshot snapshot) {
        Set<String> owners = snapshot.members(NodeRole.COORDINATOR).stream().map(NodeInfo::incarnation)
                .collect(Collectors.toUnmodifiableSet());
        boolean up = snapshot.connected();
        timer.execute(() -> update(owners, up));
    }

    private void update(Set<String> owners, boolean up) {
        present = owners;
        connected = up;
        if (!up) {
            return; // a stale view says nothing about who left
        }
        for (String owner : known) {
            if (!owners.contains(owner) && pending.add(owner)) {
                timer.schedule(() -> releaseIfStillGone(owner), grace.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        known.addAll(owners);
    }

    private void releaseIfStillGone(String owner) {
        pending.remove(owner);
        if (connected && !present.contains(owner) && known.remove(owner)) {
            release.accept(owner);
        }
    }

    @Override
    public void close() {
        view.removeListener(this);
        timer.shutdownNow();
    }
}
