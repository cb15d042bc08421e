package io.convllava.coordinator.routing;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A routing choice in use: counts as in flight on its nodes until closed.
 *
 * @param <T> what was chosen (a pipeline or a vision node)
 */
public final class Lease<T> implements AutoCloseable {
    private final T target;
    private final Runnable onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    Lease(T target, Runnable onClose) {
        this.target = target;
        this.onClose = onClose;
    }

    public T target() {
        return target;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            onClose.run();
        }
    }
}
