package io.convllava.common.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/** Test helper: records the snapshots a {@link ClusterView} publishes and waits for one that matches. */
final class SnapshotWaiter implements ClusterView.Listener {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<ClusterSnapshot> seen = new ArrayList<>();

    @Override
    public void clusterChanged(ClusterSnapshot snapshot) {
        lock.lock();
        try {
            seen.add(snapshot);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The latest snapshot matching {@code condition}, waiting up to {@code timeout}; fails the test otherwise. */
    ClusterSnapshot await(Predicate<ClusterSnapshot> condition, Duration timeout, String what)
            throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                if (!seen.isEmpty() && condition.test(seen.get(seen.size() - 1))) {
                    return seen.get(seen.size() - 1);
                }
                if (left <= 0) {
                    throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last: "
                            + (seen.isEmpty() ? "none" : seen.get(seen.size() - 1)));
                }
                left = changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    List<ClusterSnapshot> seen() {
        lock.lock();
        try {
            return List.copyOf(seen);
        } finally {
            lock.unlock();
        }
    }
}
