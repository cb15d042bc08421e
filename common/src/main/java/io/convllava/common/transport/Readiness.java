package io.convllava.common.transport;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Whether a server should get new work, as its health service tells load balancers and Kubernetes' readiness probe:
 * SERVING only while every condition holds (its model loaded, ZooKeeper connected, a complete pipeline, ...).
 * Each condition that fails has a reason, logged when the status changes. The status is that of the server as a
 * whole (service name "") and of each of its services; liveness ({@link GrpcServer#LIVENESS}) is apart: a process
 * that is not ready is still alive and must not be restarted for it.
 */
public final class Readiness {
    private static final Logger LOG = LoggerFactory.getLogger(Readiness.class);

    private final String name;
    private final HealthStatusManager health;
    private final Supplier<List<String>> services;
    /** Condition -> why it fails; conditions that hold are absent. Guarded by this. */
    private final Map<String, String> failing = new LinkedHashMap<>();
    private boolean terminal;
    private ServingStatus reported;

    Readiness(String name, HealthStatusManager health, Supplier<List<String>> services) {
        this.name = name;
        this.health = health;
        this.services = services;
    }

    /** Records that {@code condition} holds, or fails for {@code reason}; the health status follows at once. */
    public synchronized void set(String condition, boolean holds, String reason) {
        if (holds) {
            failing.remove(condition);
        } else {
            failing.put(condition, reason);
        }
        apply();
    }

    /** Whether {@code condition} holds (never set counts as holding). */
    public synchronized boolean holds(String condition) {
        return !failing.containsKey(condition);
    }

    /** Whether every condition holds. */
    public synchronized boolean isReady() {
        return failing.isEmpty() && !terminal;
    }

    /** The reasons of the conditions that fail, in the order they first failed. */
    public synchronized List<String> reasons() {
        return List.copyOf(failing.values());
    }

    /** Re-applies the status, e.g. to services installed since. */
    synchronized void apply() {
        if (terminal) {
            return;
        }
        ServingStatus status = failing.isEmpty() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        health.setStatus("", status);
        for (String service : services.get()) {
            health.setStatus(service, status);
        }
        if (status != reported) {
            if (status == ServingStatus.SERVING) {
                LOG.info("{}: SERVING{}", name, reported == null ? "" : " again");
            } else if (reported != null) {
                LOG.warn("{}: NOT_SERVING: {}", name, String.join("; ", failing.values()));
            }
            reported = status;
        }
    }

    /** Stopping: every status NOT_SERVING for good. */
    synchronized void terminate() {
        terminal = true;
        health.enterTerminalState();
    }
}
