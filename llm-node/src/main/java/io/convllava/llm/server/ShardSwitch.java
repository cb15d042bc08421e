package io.convllava.llm.server;

import io.convllava.proto.v1.ForwardBatchRequest;
import io.convllava.proto.v1.ForwardBatchResponse;
import io.convllava.proto.v1.ForwardRequest;
import io.convllava.proto.v1.ForwardResponse;
import io.convllava.proto.v1.ForwardResult;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.proto.v1.ReleaseResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The LlmNode service of a node, which hands each call to the {@link LlmNodeService} of the layers it is for. Usually
 * there is one. While the node moves to other layers (make-before-break) there are two: the new layers take every
 * new session, and the old ones keep serving the sessions they hold, and new sessions that expect them (callers that
 * have not yet seen the move), until they are {@linkplain #drainPrevious drained}.
 */
final class ShardSwitch extends LlmNodeGrpc.LlmNodeImplBase {
    private static final long DRAIN_POLL_MS = 50;

    private volatile LlmNodeService current;
    /** The service of the layers the node is leaving; null when it is not moving. */
    private volatile LlmNodeService previous;

    ShardSwitch(LlmNodeService initial) {
        this.current = initial;
    }

    LlmNodeService current() {
        return current;
    }

    /** Takes every new session on {@code next} from now on; the current service keeps its sessions. */
    synchronized void switchTo(LlmNodeService next) {
        if (previous != null) {
            throw new IllegalStateException("the node is still moving away from layers " + range(previous));
        }
        previous = current;
        current = next;
    }

    /**
     * Waits until the layers left by {@link #switchTo} hold no session, or {@code patience} has passed, then stops
     * their service (steps still queued there fail) and returns it; its shard is the caller's to close. Null when the
     * node was not moving.
     */
    LlmNodeService drainPrevious(Duration patience) throws InterruptedException {
        LlmNodeService leaving = previous;
        if (leaving == null) {
            return null;
        }
        long deadline = System.nanoTime() + patience.toNanos();
        while (leaving.activeSessions() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(DRAIN_POLL_MS);
        }
        synchronized (this) {
            previous = null;
        }
        leaving.close();
        return leaving;
    }

    /** Sessions with a KV cache on this node, on either shard. */
    int activeSessions() {
        LlmNodeService leaving = previous;
        return current.activeSessions() + (leaving == null ? 0 : leaving.activeSessions());
    }

    long steps() {
        LlmNodeService leaving = previous;
        return current.steps() + (leaving == null ? 0 : leaving.steps());
    }

    int releaseIdle(Duration idle) {
        LlmNodeService leaving = previous;
        return current.releaseIdle(idle) + (leaving == null ? 0 : leaving.releaseIdle(idle));
    }

    int releaseOwnedBy(String owner) {
        LlmNodeService leaving = previous;
        return current.releaseOwnedBy(owner) + (leaving == null ? 0 : leaving.releaseOwnedBy(owner));
    }

    /** Stops every service; their shards stay open. */
    void close() {
        LlmNodeService leaving = previous;
        if (leaving != null) {
            leaving.close();
        }
        current.close();
    }

    @Override
    public void forward(ForwardRequest request, StreamObserver<ForwardResponse> response) {
        serviceFor(request).forward(request, response);
    }

    @Override
    public void forwardBatch(ForwardBatchRequest request, StreamObserver<ForwardBatchResponse> response) {
        LlmNodeService leaving = previous;
        if (leaving == null) {
            current.forwardBatch(request, response);
            return;
        }
        // items for the old layers and for the new ones: each part to its service, the results back in order
        List<Integer> toLeaving = new ArrayList<>();
        List<Integer> toCurrent = new ArrayList<>();
        for (int i = 0; i < request.getItemsCount(); i++) {
            (serviceFor(request.getItems(i)) == leaving ? toLeaving : toCurrent).add(i);
        }
        if (toCurrent.isEmpty() || toLeaving.isEmpty()) {
            (toCurrent.isEmpty() ? leaving : current).forwardBatch(request, response);
            return;
        }
        LlmNodeService.ignoreCancellation(response);
        ForwardResult[] results = new ForwardResult[request.getItemsCount()];
        AtomicInteger parts = new AtomicInteger(2);
        Runnable answer = () -> {
            if (parts.decrementAndGet() == 0) {
                response.onNext(ForwardBatchResponse.newBuilder().addAllResults(List.of(results)).build());
                response.onCompleted();
            }
        };
        leaving.forwardBatch(part(request, toLeaving), collect(toLeaving, results, answer));
        current.forwardBatch(part(request, toCurrent), collect(toCurrent, results, answer));
    }

    @Override
    public void release(ReleaseRequest request, StreamObserver<ReleaseResponse> response) {
        LlmNodeService leaving = previous;
        boolean onLeaving = leaving != null && leaving.holds(request.getSessionId());
        (onLeaving ? leaving : current).release(request, response);
    }

    /**
     * The old layers for a session they hold or a new one that expects them; otherwise the current layers (whose
     * checks refuse what they cannot serve).
     */
    private LlmNodeService serviceFor(ForwardRequest request) {
        LlmNodeService leaving = previous;
        if (leaving == null) {
            return current;
        }
        if (leaving.holds(request.getSessionId())) {
            return leaving;
        }
        boolean expectsLeaving = request.hasExpectedLayers()
                && request.getExpectedLayers().getStart() == leaving.shard().start()
                && request.getExpectedLayers().getEnd() == leaving.shard().end();
        return expectsLeaving ? leaving : current;
    }

    private static ForwardBatchRequest part(ForwardBatchRequest request, List<Integer> items) {
        ForwardBatchRequest.Builder part = ForwardBatchRequest.newBuilder();
        items.forEach(i -> part.addItems(request.getItems(i)));
        return part.build();
    }

    /** Puts a part's results at their places in {@code results}; runs {@code done} when the part is answered. */
    private static StreamObserver<ForwardBatchResponse> collect(List<Integer> items, ForwardResult[] results,
                                                                Runnable done) {
        return new StreamObserver<>() {
            @Override
            public void onNext(ForwardBatchResponse part) {
                for (int i = 0; i < items.size(); i++) {
                    results[items.get(i)] = part.getResults(i);
                }
            }

            @Override
            public void onError(Throwable t) {
                Status status = Status.fromThrowable(t);
                for (int i : items) {
                    results[i] = ForwardResult.newBuilder().setStatusCode(status.getCode().value())
                            .setStatusMessage(status.getDescription() == null ? "" : status.getDescription()).build();
                }
                done.run();
            }

            @Override
            public void onCompleted() {
                done.run();
            }
        };
    }

    private static String range(LlmNodeService service) {
        return "[" + service.shard().start() + ", " + service.shard().end() + ")";
    }
}
