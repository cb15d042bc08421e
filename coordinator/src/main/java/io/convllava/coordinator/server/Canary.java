package io.convllava.coordinator.server;

import io.convllava.common.transport.Readiness;
import io.convllava.common.transport.RequestIds;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A coordinator's periodic canary: the shortest real generation ({@link CoordinatorService#probe}) through the
 * cluster every {@code interval}, and at once when a pipeline comes back. While the latest one failed the coordinator
 * is NOT_SERVING: members listed in ZooKeeper are not proof that they compute. A canary refused because every
 * pipeline is full (RESOURCE_EXHAUSTED) proves nothing either way and leaves the status as it was.
 */
final class Canary implements Closeable {
    static final String CONDITION = "canary";
    private static final Logger LOG = LoggerFactory.getLogger(Canary.class);

    private final CoordinatorService service;
    private final Readiness readiness;
    private final Duration interval;
    private final Duration timeout;
    private final AtomicLong sequence = new AtomicLong();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coordinator-canary");
        t.setDaemon(true);
        return t;
    });

    /** @param timeout how long one canary may take before it counts as failed */
    Canary(CoordinatorService service, Readiness readiness, Duration interval, Duration timeout) {
        this.service = service;
        this.readiness = readiness;
        this.interval = interval;
        this.timeout = timeout;
    }

    Canary start() {
        timer.scheduleWithFixedDelay(this::run, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Runs one canary soon, off the caller's thread. */
    void runSoon() {
        if (!timer.isShutdown()) {
            timer.execute(this::run);
        }
    }

    private void run() {
        String id = RequestIds.CANARY_PREFIX + sequence.incrementAndGet();
        long started = System.nanoTime();
        try {
            service.probe(id, timeout);
            readiness.set(CONDITION, true, null);
            LOG.debug("canary {} passed in {} ms", id, (System.nanoTime() - started) / 1_000_000);
        } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.RESOURCE_EXHAUSTED) {
                LOG.debug("canary {}: every pipeline is full; status left as it was", id);
                return;
            }
            if (code == Status.Code.UNAVAILABLE && !readiness.holds(PipelineReadiness.CONDITION)) {
                return; // no pipeline: that condition already says so
            }
            fail(id, code + ": " + e.getStatus().getDescription());
        } catch (RuntimeException e) {
            fail(id, e.toString());
        }
    }

    private void fail(String id, String why) {
        readiness.set(CONDITION, false, "the canary generation failed (" + why + ")");
        LOG.warn("canary {} failed: {}", id, why);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
