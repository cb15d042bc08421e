package io.convllava.coordinator.routing;

import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.GrpcServer;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Nodes this coordinator found dead before ZooKeeper did: a call through them failed and their gRPC health service
 * did not answer SERVING within {@link #PROBE_DEADLINE}. ZooKeeper notices a killed process only at its session
 * timeout (seconds); routing skips these nodes from the moment of the failed call. Every
 * {@link #REPROBE_PERIOD} each one is asked again (its channel's reconnect backoff reset first, so a node restarted
 * at the same address is found at once); one that answers SERVING, or leaves the cluster, is routed to again.
 */
public final class DeadNodes implements AutoCloseable {
    private static final HealthCheckRequest LIVENESS =
            HealthCheckRequest.newBuilder().setService(GrpcServer.LIVENESS).build();
    private static final Logger LOG = LoggerFactory.getLogger(DeadNodes.class);
    static final Duration PROBE_DEADLINE = Duration.ofSeconds(1);
    static final Duration REPROBE_PERIOD = Duration.ofMillis(500);

    private final ChannelPool channels;
    private final Map<String, NodeInfo> dead = new ConcurrentHashMap<>();
    private final List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ScheduledExecutorService reprobe = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dead-node-probe");
        t.setDaemon(true);
        return t;
    });

    DeadNodes(ChannelPool channels) {
        this.channels = channels;
        reprobe.scheduleWithFixedDelay(this::reprobe, REPROBE_PERIOD.toMillis(), REPROBE_PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * Asks each of {@code nodes} whether it is alive (all at once, each within {@link #PROBE_DEADLINE}) and marks
     * those that are not.
     *
     * @return the ids of the nodes found dead
     */
    List<String> check(Collection<NodeInfo> nodes) {
        List<Future<Boolean>> answers = new ArrayList<>();
        List<NodeInfo> asked = new ArrayList<>(nodes);
        for (NodeInfo node : asked) {
            answers.add(probeAsync(node));
        }
        List<String> found = new ArrayList<>();
        boolean changed = false;
        for (int i = 0; i < asked.size(); i++) {
            NodeInfo node = asked.get(i);
            boolean alive;
            try {
                alive = answers.get(i).get();
            } catch (Exception e) {
                alive = false;
            }
            if (!alive) {
                if (dead.put(node.nodeId(), node) == null) {
                    LOG.warn("node {} ({}) does not answer: routing skips it until it does", node.nodeId(),
                            node.address());
                    changed = true;
                }
                found.add(node.nodeId());
            }
        }
        if (changed) {
            changed();
        }
        return found;
    }

    /** {@code listener} runs (on a probing thread) whenever a node is found dead or answers again. */
    void addListener(Runnable listener) {
        listeners.add(listener);
    }

    private void changed() {
        listeners.forEach(Runnable::run);
    }

    boolean isDead(String nodeId) {
        return dead.containsKey(nodeId);
    }

    Set<String> ids() {
        return Set.copyOf(dead.keySet());
    }

    /** Forgets nodes that left the cluster: ZooKeeper has caught up with them. */
    void retainOnly(Set<String> memberIds) {
        dead.keySet().retainAll(memberIds);
    }

    private void reprobe() {
        for (NodeInfo node : List.copyOf(dead.values())) {
            try {
                if (probeAsync(node).get() && dead.remove(node.nodeId(), node)) {
                    LOG.info("node {} ({}) answers again: routed to again", node.nodeId(), node.address());
                    changed();
                }
            } catch (Exception e) {
                // still dead
            }
        }
    }

    /**
     * Completes with whether the node's liveness ({@link GrpcServer#LIVENESS}) answers SERVING in time; never fails.
     * Not its readiness: a node that lost ZooKeeper for a moment still computes the sessions it holds.
     */
    private CompletableFuture<Boolean> probeAsync(NodeInfo node) {
        CompletableFuture<Boolean> alive = new CompletableFuture<>();
        try {
            ManagedChannel channel = channels.get(node.address());
            channel.resetConnectBackoff();
            HealthGrpc.newStub(channel).withDeadlineAfter(PROBE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .check(LIVENESS, new StreamObserver<>() {
                        @Override
                        public void onNext(HealthCheckResponse response) {
                            alive.complete(response.getStatus() == HealthCheckResponse.ServingStatus.SERVING);
                        }

                        @Override
                        public void onError(Throwable t) {
                            alive.complete(false);
                        }

                        @Override
                        public void onCompleted() {
                            alive.complete(false);
                        }
                    });
        } catch (StatusRuntimeException | IllegalStateException e) {
            alive.complete(false);
        }
        return alive;
    }

    @Override
    public void close() {
        reprobe.shutdownNow();
    }
}
