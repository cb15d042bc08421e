package io.convllava.common.client;

import com.google.common.util.concurrent.MoreExecutors;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ForwardBatchRequest;
import io.convllava.proto.v1.ForwardBatchResponse;
import io.convllava.proto.v1.ForwardRequest;
import io.convllava.proto.v1.ForwardResponse;
import io.convllava.proto.v1.ForwardResult;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The decode steps of every session whose pipeline starts at one llm node, sent to it as ForwardBatch calls: a step
 * goes out at once while fewer than {@value #MAX_IN_FLIGHT} calls are in flight to that node, else it waits for one to
 * return and leaves with every step that queued meanwhile. A lone session's step is never delayed; many sessions' steps
 * cost the coordinator and the first stage one call per batch instead of one per step (per-call work, not arithmetic,
 * is most of a small model's step). Each step keeps its own outcome: its answer or its status.
 */
public final class DecodeStepBatcher {
    /** Two: the first stage computes one batch while the next stage computes the one before. */
    static final int MAX_IN_FLIGHT = 2;
    /** Steps per call at most, as a stage takes them in one step. */
    static final int MAX_ITEMS = 64;

    private final LlmNodeGrpc.LlmNodeStub stub;
    private final TransportOptions options;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private int inFlight;
    private long calls;
    private long steps;

    public DecodeStepBatcher(Channel channel, TransportOptions options) {
        // answers complete futures and send the next batch: nothing that blocks, so on the transport thread
        this.stub = LlmNodeGrpc.newStub(channel).withExecutor(MoreExecutors.directExecutor());
        this.options = options;
    }

    /**
     * Runs one step with the others queued now and waits for its answer, within the calling context's deadline (else
     * the options' call deadline); the context's cancellation ends the wait.
     *
     * @throws StatusRuntimeException the step's status when it failed, DEADLINE_EXCEEDED or CANCELLED
     */
    public ForwardResponse forward(ForwardRequest request) {
        Context context = Context.current();
        Deadline deadline = context.getDeadline() != null ? context.getDeadline()
                : Deadline.after(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS);
        Pending step = new Pending(request);
        Context.CancellationListener onCancel = cancelled -> step.result.completeExceptionally(
                Status.CANCELLED.withDescription("the request was cancelled").withCause(cancelled.cancellationCause())
                        .asRuntimeException());
        context.addListener(onCancel, MoreExecutors.directExecutor());
        List<Pending> batch = null;
        synchronized (this) {
            queue.add(step);
            if (inFlight < MAX_IN_FLIGHT) {
                batch = takeLocked();
            }
        }
        if (batch != null) {
            send(batch);
        }
        try {
            return step.result.get(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException failed) {
                throw failed;
            }
            throw Status.INTERNAL.withCause(e.getCause()).asRuntimeException();
        } catch (TimeoutException e) {
            step.result.cancel(false);
            throw Status.DEADLINE_EXCEEDED.withDescription("decode step of session " + request.getSessionId()
                    + " not answered within the deadline").asRuntimeException();
        } catch (InterruptedException e) {
            step.result.cancel(false);
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted while waiting for a decode step").asRuntimeException();
        } finally {
            context.removeListener(onCancel);
        }
    }

    /** ForwardBatch calls sent so far. */
    public synchronized long calls() {
        return calls;
    }

    /** Steps sent so far, in those calls. */
    public synchronized long steps() {
        return steps;
    }

    /** The next batch: up to {@value #MAX_ITEMS} queued steps still awaited, counted in flight; null when none. */
    private List<Pending> takeLocked() {
        List<Pending> batch = new ArrayList<>(Math.min(queue.size(), MAX_ITEMS));
        while (!queue.isEmpty() && batch.size() < MAX_ITEMS) {
            Pending step = queue.poll();
            if (!step.result.isDone()) { // a caller that gave up (cancelled, past its deadline) sends nothing
                batch.add(step);
            }
        }
        if (batch.isEmpty()) {
            return null;
        }
        inFlight++;
        calls++;
        steps += batch.size();
        return batch;
    }

    private void send(List<Pending> batch) {
        ForwardBatchRequest.Builder request = ForwardBatchRequest.newBuilder();
        for (Pending step : batch) {
            request.addItems(step.request);
        }
        // the batch's steps outlive any one caller's cancellation: each caller stops waiting on its own
        Context.ROOT.run(() -> stub.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                .forwardBatch(request.build(), new StreamObserver<>() {
                    @Override
                    public void onNext(ForwardBatchResponse response) {
                        for (int i = 0; i < batch.size(); i++) {
                            complete(batch.get(i), i < response.getResultsCount() ? response.getResults(i) : null);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        Status status = Status.fromThrowable(t);
                        for (Pending step : batch) {
                            step.result.completeExceptionally(status.asRuntimeException());
                        }
                        sendNext();
                    }

                    @Override
                    public void onCompleted() {
                        sendNext();
                    }
                }));
    }

    private static void complete(Pending step, ForwardResult result) {
        if (result == null) {
            step.result.completeExceptionally(Status.INTERNAL.withDescription("the first stage answered a batch"
                    + " without the result of session " + step.request.getSessionId()).asRuntimeException());
        } else if (result.getStatusCode() == Status.Code.OK.value()) {
            step.result.complete(result.getResponse());
        } else {
            step.result.completeExceptionally(Status.fromCodeValue(result.getStatusCode())
                    .withDescription(result.getStatusMessage()).asRuntimeException());
        }
    }

    private void sendNext() {
        List<Pending> next;
        synchronized (this) {
            inFlight--;
            next = takeLocked();
        }
        if (next != null) {
            send(next);
        }
    }

    private record Pending(ForwardRequest request, CompletableFuture<ForwardResponse> result) {
        Pending(ForwardRequest request) {
            this(request, new CompletableFuture<>());
        }
    }
}
