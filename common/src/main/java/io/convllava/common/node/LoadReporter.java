package io.convllava.common.node;

import io.convllava.common.cluster.NodeRegistration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/** Republishes a node's load (requests or sessions in progress) every second; coordinators route by it. */
final class LoadReporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LoadReporter.class);
    private static final Duration PERIOD = Duration.ofSeconds(1);
    private final ScheduledExecutorService timer;

    LoadReporter(NodeRegistration registration, IntSupplier active) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "load-" + registration.info().nodeId());
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> report(registration, active), PERIOD.toMillis(), PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** One report; a failure is logged and the next report tried (a task that threw would never run again). */
    private static void report(NodeRegistration registration, IntSupplier active) {
        try {
            registration.updateLoad(active.getAsInt(), 0);
        } catch (RuntimeException e) {
            LOG.warn("{}: cannot publish the load: {}", registration.path(), e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
