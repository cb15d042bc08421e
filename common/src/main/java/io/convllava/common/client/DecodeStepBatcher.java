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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The decode steps of every session whose pipeline starts at one llm node, sent to it as ForwardBatch calls, so that
 * many sessions cost the coordinator and every stage one call and one step per batch instead of one per session
 * (per-call work, not arithmetic, is most of a small model's step; a large model's step streams its weights once
 * for the whole batch).
 *
 * <p>Sessions that have sent a decode step are members until they {@link #leave} (or a step of theirs fails). A batch
 * goes out while fewer than {@code batchesInFlight} calls are in flight, once every member's step is either queued or
 * in flight: the sessions of a batch that came back send their next steps within moments, and a batch sent before they
 * all did would split them into smaller batches for good. A member that has not sent its step within half the last
 * round trip (at least {@value #MIN_HOLD_MILLIS} ms, at most {@value #MAX_HOLD_MILLIS} ms) is not waited for: the batch
 * leaves without it, and it stops being a member until its next step. A lone session's step is never delayed.
 *
 * <p>Each step keeps its own outcome: its answer or its status. A caller may wait for it ({@link #forward}) or chain
 * its next step to it ({@link #forwardAsync}): then the answers of a batch run their sessions' next steps on the
 * transport thread, and the next batch forms without waking a thread per session.
 */
public final class DecodeStepBatcher {
    /** Steps per call at most, as a stage takes them in one step. */
    static final int MAX_ITEMS = 64;
    static final long MIN_HOLD_MILLIS = 1;
    static final long MAX_HOLD_MILLIS = 50;
    private static final ScheduledExecutorService TIMER = timer();

    private final LlmNodeGrpc.LlmNodeStub stub;
    private final TransportOptions options;
    private final int batchesInFlight;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    /** Sessions whose next step is expected soon: every one that sent a step and has not left. */
    private final Set<String> members = new HashSet<>();
    /** Members whose step is neither queued nor in flight: the next batch waits for them. */
    private final Set<String> absent = new HashSet<>();
    private int inFlight;
    private long lastRoundTripNanos;
    /** When the queue started waiting for members, 0 when it does not; a timer ends the wait. */
    private long holdingSince;
    private long calls;
    private long steps;
    private long holdsExpired;

    /**
     * @param batchesInFlight how many batches may be in flight at once: 1 where the pipeline's stages share one host's
     *                        cores (a second batch would only split the first), as many as the stages where each has
     *                        machines of its own (stage k computes one batch while stage k+1 computes the one before)
     */
    public DecodeStepBatcher(Channel channel, TransportOptions options, int batchesInFlight) {
        if (batchesInFlight < 1) {
            throw new IllegalArgumentException("batchesInFlight must be at least 1, got " + batchesInFlight);
        }
        // answers complete futures and send the next batch: nothing that blocks, so on the transport thread
        this.stub = LlmNodeGrpc.newStub(channel).withExecutor(MoreExecutors.directExecutor());
        this.options = options;
        this.batchesInFlight = batchesInFlight;
    }

    /**
     * Runs one step with the others queued now and waits for its answer, within the calling context's deadline (else
     * the options' call deadline); the context's cancellation ends the wait.
     *
     * @throws StatusRuntimeException the step's status when it failed, DEADLINE_EXCEEDED or CANCELLED
     */
    public ForwardResponse forward(ForwardRequest request) {
        CompletableFuture<ForwardResponse> answer = forwardAsync(request);
        try {
            return answer.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException failed) {
                throw failed;
            }
            throw Status.INTERNAL.withCause(e.getCause()).asRuntimeException();
        } catch (InterruptedException e) {
            answer.cancel(false);
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted while waiting for a decode step").asRuntimeException();
        }
    }

    /**
     * Queues one step with the others and returns its answer to come, without waiting: the future completes on the
     * transport thread that received the batch's answer (what is chained to it must not block), or exceptionally with
     * a StatusRuntimeException: the step's status, DEADLINE_EXCEEDED once the calling context's deadline (else the
     * options' call deadline) passed, CANCELLED when that context is cancelled.
     */
    public CompletableFuture<ForwardResponse> forwardAsync(ForwardRequest request) {
        Context context = Context.current();
        Deadline deadline = context.getDeadline() != null ? context.getDeadline()
                : Deadline.after(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS);
        Pending step = new Pending(request);
        Context.CancellationListener onCancel = cancelled -> step.result.completeExceptionally(
                Status.CANCELLED.withDescription("the request was cancelled").withCause(cancelled.cancellationCause())
                        .asRuntimeException());
        context.addListener(onCancel, MoreExecutors.directExecutor());
        ScheduledFuture<?> timeout = TIMER.schedule(() -> step.result.completeExceptionally(
                Status.DEADLINE_EXCEEDED.withDescription("decode step of session " + request.getSessionId()
                        + " not answered within the deadline").asRuntimeException()),
                Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)), TimeUnit.NANOSECONDS);
        step.result.whenComplete((answer, failure) -> {
            timeout.cancel(false);
            context.removeListener(onCancel);
        });
        List<Pending> batch;
        synchronized (this) {
            members.add(request.getSessionId());
            absent.remove(request.getSessionId());
            queue.add(step);
            batch = readyLocked();
        }
        if (batch != null) {
            send(batch);
        }
        return step.result;
    }

    /** The session sends no more steps (it ended or failed): batches stop waiting for it. */
    public void leave(String sessionId) {
        List<Pending> batch;
        synchronized (this) {
            if (!members.remove(sessionId)) {
                return;
            }
            absent.remove(sessionId);
            batch = readyLocked();
        }
        if (batch != null) {
            send(batch);
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

    /** Batches that left without a member that had not sent its step in time. */
    public synchronized long holdsExpired() {
        return holdsExpired;
    }

    /**
     * The next batch if one may leave now: a call is free and every member's step is queued or in flight (or a full
     * batch is queued); else null, with a timer set to send what is queued once the hold is over.
     */
    private List<Pending> readyLocked() {
        if (inFlight >= batchesInFlight || queue.isEmpty()) {
            return null;
        }
        if (absent.isEmpty() || queue.size() >= MAX_ITEMS) {
            return takeLocked();
        }
        if (holdingSince == 0) {
            holdingSince = System.nanoTime();
            long hold = Math.min(TimeUnit.MILLISECONDS.toNanos(MAX_HOLD_MILLIS),
                    Math.max(TimeUnit.MILLISECONDS.toNanos(MIN_HOLD_MILLIS), lastRoundTripNanos / 2));
            long since = holdingSince;
            TIMER.schedule(() -> holdOver(since), hold, TimeUnit.NANOSECONDS);
        }
        return null;
    }

    /**
     * The hold that began at {@code since} is over: what is queued leaves, and the members still missing stop being
     * members until their next step.
     */
    private void holdOver(long since) {
        List<Pending> batch = null;
        synchronized (this) {
            if (holdingSince == since && inFlight < batchesInFlight) {
                holdsExpired++;
                members.removeAll(absent);
                absent.clear();
                batch = takeLocked();
            }
        }
        if (batch != null) {
            send(batch);
        }
    }

    /** The next batch: up to {@value #MAX_ITEMS} queued steps still awaited, counted in flight; null when none. */
    private List<Pending> takeLocked() {
        holdingSince = 0;
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
        long sent = System.nanoTime();
        ForwardBatchRequest.Builder request = ForwardBatchRequest.newBuilder();
        for (Pending step : batch) {
            request.addItems(step.request);
        }
        // the batch's steps outlive any one caller's cancellation: each caller stops waiting on its own
        Context.ROOT.run(() -> stub.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                .forwardBatch(request.build(), new StreamObserver<>() {
                    @Override
                    public void onNext(ForwardBatchResponse response) {
                        returned(batch, sent, response);
                        for (int i = 0; i < batch.size(); i++) {
                            complete(batch.get(i), i < response.getResultsCount() ? response.getResults(i) : null);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        Status status = Status.fromThrowable(t);
                        returned(batch, sent, null);
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

    /**
     * The batch's steps are no longer in flight: the sessions of those that succeeded will send their next ones, those
     * that failed (all of them when {@code response} is null) stop being members: they send no more steps to this
     * node unless they start over.
     */
    private synchronized void returned(List<Pending> batch, long sent, ForwardBatchResponse response) {
        for (int i = 0; i < batch.size(); i++) {
            String session = batch.get(i).request.getSessionId();
            boolean ok = response != null && i < response.getResultsCount()
                    && response.getResults(i).getStatusCode() == Status.Code.OK.value();
            if (ok && members.contains(session)) {
                absent.add(session);
            } else if (!ok) {
                members.remove(session);
                absent.remove(session);
            }
        }
        lastRoundTripNanos = System.nanoTime() - sent;
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
            next = readyLocked();
        }
        if (next != null) {
            send(next);
        }
    }

    private static ScheduledExecutorService timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "decode-batch-timer");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true); // every answered step cancels its deadline timer
        return timer;
    }

    private record Pending(ForwardRequest request, CompletableFuture<ForwardResponse> result) {
        Pending(ForwardRequest request) {
            this(request, new CompletableFuture<>());
        }
    }
}
