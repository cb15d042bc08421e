package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs on every coordinator: a {@link LeaderLatch} elects one of them, and the leader keeps the shard plan in step
 * with the LLM members. Whenever the LLM membership (ids, requested layers, layer counts) changes and has been
 * quiet for {@code settleDelay}, the leader reads the plan, computes the next one with {@link ShardPlanner} and
 * writes it with a compare-and-set on the znode version, the epoch one higher. A concurrent writer makes the CAS
 * fail; the leader then reads again, so epochs only grow.
 *
 * <p>All work runs on one thread. {@code notLeader} stops writing at once. Connection states: SUSPENDED pauses
 * writing, RECONNECTED resumes it and replans (members may have changed meanwhile), LOST pauses it (the latch then
 * reports {@code notLeader}, and after the new session the latch takes part in the election again).
 */
public final class PlanLeader implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(PlanLeader.class);
    private static final int CAS_ATTEMPTS = 5;
    private static final Duration RETRY_DELAY = Duration.ofSeconds(1);

    private final CuratorFramework client;
    private final ZkLayout layout;
    private final ClusterView view;
    private final Duration settleDelay;
    /** Members this coordinator found dead before ZooKeeper noticed: planned as if gone. */
    private final Supplier<Set<String>> unreachable;
    private final LeaderLatch latch;
    private final ScheduledExecutorService worker;
    private final ClusterView.Listener viewListener;
    private final ConnectionStateListener connectionListener;
    // only touched on the worker thread
    private boolean leading;
    private boolean paused;
    private ClusterSnapshot latest = ClusterSnapshot.EMPTY;
    private List<PlanningInput> lastSeen;
    private List<PlanningInput> planned;
    private ScheduledFuture<?> pending;
    /** The highest plan epoch seen or written: a plan written after ZooKeeper lost its data continues from it. */
    private long highestEpoch;

    /**
     * @param participantId this coordinator in the election, e.g. {@code host:port}
     * @param settleDelay   quiet time after a membership change before planning, so that nodes starting together
     *                      are planned together
     */
    public PlanLeader(CuratorFramework client, ZkLayout layout, ClusterView view, String participantId,
                      Duration settleDelay) {
        this(client, layout, view, participantId, settleDelay, Set::of);
    }

    /**
     * @param unreachable members found dead (their health check failed) that ZooKeeper still lists until their
     *                    session times out: planning leaves them out at once, so that auto nodes close the gap
     *                    seconds sooner; call {@link #reconsider} when it changes
     */
    public PlanLeader(CuratorFramework client, ZkLayout layout, ClusterView view, String participantId,
                      Duration settleDelay, Supplier<Set<String>> unreachable) {
        this.client = client;
        this.layout = layout;
        this.view = view;
        this.settleDelay = settleDelay;
        this.unreachable = unreachable;
        this.latch = new LeaderLatch(client, layout.leader(), participantId, LeaderLatch.CloseMode.NOTIFY_LEADER);
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "plan-leader-" + participantId);
            t.setDaemon(true);
            return t;
        });
        this.viewListener = snapshot -> onWorker(() -> onCluster(snapshot));
        this.connectionListener = (c, newState) -> onWorker(() -> onConnection(newState));
    }

    public void start() throws Exception {
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                onLeadership(true);
            }

            @Override
            public void notLeader() {
                onLeadership(false);
            }
        }, worker);
        client.getConnectionStateListenable().addListener(connectionListener);
        view.addListener(viewListener);
        latch.start();
    }

    /** Plans again (after the settle delay) if what planning depends on changed: say, a member was found dead. */
    public void reconsider() {
        onWorker(() -> onCluster(latest));
    }

    /**
     * Runs {@code task} on the planning thread. After {@link #close} it is dropped: an event that was already being
     * told to listeners when the leader closed has nothing left to plan.
     */
    private void onWorker(Runnable task) {
        try {
            worker.execute(task);
        } catch (RejectedExecutionException closed) {
            LOG.debug("{}: closed; an event arrived too late to plan", latch.getId());
        }
    }

    /** Whether this coordinator currently holds the plan leadership. */
    public boolean hasLeadership() {
        return latch.hasLeadership();
    }

    /** Waits until this coordinator is the plan leader; false on timeout. */
    public boolean awaitLeadership(Duration timeout) throws InterruptedException {
        return latch.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Leaves the election (another coordinator takes over) and stops planning. */
    @Override
    public void close() throws IOException {
        view.removeListener(viewListener);
        client.getConnectionStateListenable().removeListener(connectionListener);
        try {
            latch.close();
        } finally {
            worker.shutdownNow();
        }
    }

    private void onLeadership(boolean nowLeading) {
        leading = nowLeading;
        LOG.info("{}: {} plan leader of cluster '{}'", latch.getId(), nowLeading ? "became" : "is no longer",
                layout.cluster());
        planned = null;
        if (nowLeading) {
            schedulePlanning(settleDelay);
        } else {
            cancelPending();
        }
    }

    private void onConnection(ConnectionState newState) {
        switch (newState) {
            case SUSPENDED, LOST, READ_ONLY -> {
                paused = true;
                cancelPending();
            }
            case CONNECTED, RECONNECTED -> {
                paused = false;
                planned = null;
                if (leading) {
                    schedulePlanning(settleDelay);
                }
            }
        }
    }

    private void onCluster(ClusterSnapshot snapshot) {
        latest = snapshot;
        highestEpoch = Math.max(highestEpoch, snapshot.plan().epoch());
        List<PlanningInput> input = PlanningInput.of(plannable(snapshot));
        // load updates leave the input as it was and must not postpone a pending planning run
        if (input.equals(lastSeen)) {
            return;
        }
        lastSeen = input;
        if (leading && !input.equals(planned)) {
            schedulePlanning(settleDelay);
        }
    }

    private void schedulePlanning(Duration delay) {
        cancelPending();
        try {
            pending = worker.schedule(this::planNow, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            LOG.debug("{}: closed; not planning again", latch.getId());
        }
    }

    private void cancelPending() {
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
    }

    private void planNow() {
        pending = null;
        ClusterSnapshot snapshot = latest;
        // an uninitialized or stale view would read as "no LLM members" and wipe the plan
        boolean viewUsable = snapshot.version() > 0 && snapshot.connected();
        if (!leading || paused || !latch.hasLeadership()) {
            return;
        }
        if (!viewUsable) {
            schedulePlanning(settleDelay);
            return;
        }
        try {
            for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
                if (tryPublish(snapshot)) {
                    planned = PlanningInput.of(plannable(snapshot));
                    return;
                }
            }
            LOG.warn("{}: plan of cluster '{}' kept changing under us; retrying", latch.getId(), layout.cluster());
        } catch (Exception e) {
            LOG.warn("{}: cannot publish the plan of cluster '{}': {}; retrying in {}", latch.getId(),
                    layout.cluster(), e.toString(), RETRY_DELAY);
        }
        schedulePlanning(RETRY_DELAY);
    }

    /** Reads the plan, writes the next one with a CAS; false if someone else wrote in between. */
    private boolean tryPublish(ClusterSnapshot snapshot) throws Exception {
        Stat stat = new Stat();
        ShardPlan current;
        boolean exists = true;
        try {
            current = readPlan(client.getData().storingStatIn(stat).forPath(layout.plan()), stat);
        } catch (KeeperException.NoNodeException e) {
            current = ShardPlan.NONE;
            exists = false;
        }
        if (current.epoch() < highestEpoch) {
            // ZooKeeper lost its data (restarted without it) or went back to an older copy: epochs still only grow
            current = new ShardPlan(highestEpoch, current.numLayers(), current.assignments());
        }
        ShardPlan next = ShardPlanner.plan(plannable(snapshot), current);
        if (next == current) {
            return true;
        }
        if (!leading || !latch.hasLeadership()) {
            return true;
        }
        try {
            if (exists) {
                client.setData().withVersion(stat.getVersion()).forPath(layout.plan(), next.toJson());
            } else {
                client.create().creatingParentContainersIfNeeded().forPath(layout.plan(), next.toJson());
            }
        } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
            return false;
        }
        highestEpoch = next.epoch();
        LOG.info("{}: published plan epoch {} of cluster '{}': {}", latch.getId(), next.epoch(), layout.cluster(),
                next.assignments());
        return true;
    }

    private ShardPlan readPlan(byte[] data, Stat stat) {
        try {
            return ShardPlan.fromJson(data, layout.plan());
        } catch (IllegalArgumentException e) {
            LOG.warn("{}: replacing unreadable plan: {}", latch.getId(), e.getMessage());
            // every plan write bumps the znode version, so no earlier plan had a higher epoch than this
            return new ShardPlan(stat.getVersion() + 1L, 0, new TreeMap<>());
        }
    }

    /** The LLM members to plan for: without those found dead. */
    private List<NodeInfo> plannable(ClusterSnapshot snapshot) {
        Set<String> gone = unreachable.get();
        return snapshot.members(NodeRole.LLM).stream().filter(m -> !gone.contains(m.nodeId())).toList();
    }

    /** What planning depends on, per LLM member. */
    private record PlanningInput(String nodeId, String requestedLayers, int numLayers) {
        static List<PlanningInput> of(List<NodeInfo> members) {
            return members.stream()
                    .map(m -> new PlanningInput(m.nodeId(), m.requestedLayers(), m.numLayers()))
                    .toList();
        }
    }
}
