package io.convllava.common.node;

import io.convllava.common.cluster.NodeRegistration;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/** Republishes a node's load (requests or sessions in progress) every second; coordinators route by it. */
final class LoadReporter implements AutoCloseable {
    private static final Duration PERIOD = Duration.ofSeconds(1);
    private final ScheduledExecutorService timer;

    LoadReporter(NodeRegistration registration, IntSupplier active) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "load-" + registration.info().nodeId());
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> registration.updateLoad(active.getAsInt(), 0), PERIOD.toMillis(),
                PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
