package io.convllava.coordinator.routing;

import io.convllava.common.client.RemotePipeline;
import io.convllava.common.client.SessionOwner;
import io.convllava.common.cluster.Pipeline;
import io.convllava.common.pipeline.DecoderPipeline;
import io.convllava.common.transport.PeerLoss;
import io.convllava.coordinator.generate.Failover;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One request's pipeline and where it goes next. After a failed call the stages are health-checked (those that do
 * not answer leave routing at once, ahead of ZooKeeper), then the least loaded pipeline without the dead nodes is
 * taken, a pipeline without any of the failed one's nodes first. While none exists, it waits with backoff for one to
 * form (a node restarting, a replica loading) until the request's deadline ({@link #WAIT_WITHOUT_DEADLINE} without
 * one), then answers UNAVAILABLE naming the layers no live node holds. A full node (RESOURCE_EXHAUSTED) sends the
 * request to another pipeline if there is one, else its refusal goes back to the client.
 */
public final class PipelineFailover implements Failover, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineFailover.class);
    /** Moves one request may make: beyond this, something is wrong that moving will not fix. */
    static final int MAX_MOVES = 8;
    static final Duration WAIT_WITHOUT_DEADLINE = Duration.ofSeconds(30);
    private static final long FIRST_BACKOFF_MS = 25;
    private static final long MAX_BACKOFF_MS = 500;

    private final Router router;
    /** This coordinator's incarnation: the owner named by its session ids ({@link SessionOwner}). */
    private final String owner;
    private Lease<Pipeline> lease;
    /**
     * The plan epoch the nodes check, read after each pick: a node publishes moved layers only after the plan that
     * moved them, so a snapshot that routes to the new layers carries that plan's epoch or a later one.
     */
    private long planEpoch;
    private int moves;

    private PipelineFailover(Router router, Lease<Pipeline> lease, String owner) {
        this.router = router;
        this.owner = owner;
        this.lease = lease;
        this.planEpoch = router.snapshot().plan().epoch();
    }

    /**
     * The least loaded pipeline for a request of conversation {@code affinity} ({@link Router#pickPipeline(String)});
     * UNAVAILABLE at once when there is none.
     */
    public static PipelineFailover start(Router router, String affinity, String owner) {
        return new PipelineFailover(router, router.pickPipeline(affinity), owner);
    }

    public DecoderPipeline pipeline() {
        return RemotePipeline.of(lease.target(), router.channels(), planEpoch, owner);
    }

    public List<String> nodeIds() {
        return lease.target().nodeIds();
    }

    /**
     * Whether a failure may go away on another pipeline, or on the same one rebuilt: a stage lost, full, or not
     * holding what the session expects (restarted, moved to other layers).
     */
    static boolean movable(Status status) {
        return PeerLoss.is(status) || status.getCode() == Status.Code.RESOURCE_EXHAUSTED
                || status.getCode() == Status.Code.FAILED_PRECONDITION;
    }

    @Override
    public DecoderPipeline replace(DecoderPipeline failed, StatusRuntimeException failure) {
        Status.Code code = failure.getStatus().getCode();
        if (!movable(failure.getStatus()) || Context.current().isCancelled() || ++moves > MAX_MOVES) {
            throw failure;
        }
        Pipeline old = lease.target();
        List<String> dead = router.checkNodes(old.stages());
        boolean full = code == Status.Code.RESOURCE_EXHAUSTED && dead.isEmpty();
        lease.close();
        long deadline = System.nanoTime() + waitNanos();
        long backoff = FIRST_BACKOFF_MS;
        Set<String> wholePipeline = Set.copyOf(old.nodeIds());
        while (true) {
            try {
                lease = pick(wholePipeline, full ? wholePipeline : Set.copyOf(dead));
                planEpoch = router.snapshot().plan().epoch();
                LOG.info("pipeline {} failed ({}{}): the session moves to {}", old, failure.getStatus(),
                        dead.isEmpty() ? "" : "; not answering: " + dead, lease.target());
                return pipeline();
            } catch (StatusRuntimeException none) {
                if (full) {
                    throw failure; // every other pipeline is missing or full too: the node's refusal stands
                }
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) > deadline
                        || Context.current().isCancelled()) {
                    throw Status.UNAVAILABLE.withDescription(none.getStatus().getDescription() + " (the session's"
                            + " pipeline " + old + " failed: " + failure.getStatus().getDescription() + ")")
                            .asRuntimeException();
                }
                sleep(backoff);
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            }
        }
    }

    /** A pipeline without any of {@code preferAvoided}, else one without {@code mustAvoid}. */
    private Lease<Pipeline> pick(Set<String> preferAvoided, Set<String> mustAvoid) {
        try {
            return router.pickPipeline(null, preferAvoided);
        } catch (StatusRuntimeException e) {
            return router.pickPipeline(null, mustAvoid);
        }
    }

    private static long waitNanos() {
        Deadline deadline = Context.current().getDeadline();
        return deadline == null ? WAIT_WITHOUT_DEADLINE.toNanos()
                : Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted while waiting for a pipeline").asRuntimeException();
        }
    }

    @Override
    public void close() {
        lease.close();
    }
}
