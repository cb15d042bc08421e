package io.convllava.common.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * Test helper: records every snapshot a {@link ClusterView} publishes and waits for one that matches, so that short
 * states (a node gone and back) are not missed.
 */
final class SnapshotWaiter implements ClusterView.Listener {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<ClusterSnapshot> seen = new ArrayList<>();
    private int checked;

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

    /**
     * The first snapshot after the one last returned that matches {@code condition}, waiting up to
     * {@code timeout}; fails the test otherwise.
     */
    ClusterSnapshot await(Predicate<ClusterSnapshot> condition, Duration timeout, String what)
            throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                for (; checked < seen.size(); checked++) {
                    if (condition.test(seen.get(checked))) {
                        return seen.get(checked++);
                    }
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
