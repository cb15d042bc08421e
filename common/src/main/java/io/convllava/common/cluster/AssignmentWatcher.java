package io.convllava.common.cluster;

import java.io.Closeable;
import java.time.Duration;
import java.util.Optional;

/**
 * For an LLM node started with {@code auto} layers: follows the plan for this node's assignment. The listener is
 * called (on the view's event thread) each time the plan gives this node a different range; the node then loads
 * those layers and republishes itself with {@link NodeRegistration#assignLayers}. A plan that leaves the node out
 * changes nothing: it keeps what it has.
 */
public final class AssignmentWatcher implements Closeable {
    /** A range the plan of this epoch gives the node. */
    public record Assignment(long epoch, LayerRange layers) {
    }

    @FunctionalInterface
    public interface Listener {
        void assigned(Assignment assignment);
    }

    private final ClusterView view;
    private final String nodeId;
    private final Listener listener;
    private final ClusterView.Listener viewListener = this::onSnapshot;
    private Assignment current;

    public AssignmentWatcher(ClusterView view, String nodeId, Listener listener) {
        this.view = view;
        this.nodeId = nodeId;
        this.listener = listener;
    }

    public void start() {
        view.addListener(viewListener);
    }

    /** The latest assignment seen, if any. */
    public synchronized Optional<Assignment> current() {
        return Optional.ofNullable(current);
    }

    /** Waits for the first assignment; empty on timeout. */
    public synchronized Optional<Assignment> awaitAssignment(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (current == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return Optional.empty();
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return Optional.of(current);
    }

    @Override
    public void close() {
        view.removeListener(viewListener);
    }

    private void onSnapshot(ClusterSnapshot snapshot) {
        Optional<LayerRange> layers = snapshot.plan().assignment(nodeId);
        Assignment changed;
        synchronized (this) {
            if (layers.isEmpty() || (current != null && current.layers().equals(layers.get()))) {
                return;
            }
            current = new Assignment(snapshot.plan().epoch(), layers.get());
            changed = current;
            notifyAll();
        }
        listener.assigned(changed);
    }
}
