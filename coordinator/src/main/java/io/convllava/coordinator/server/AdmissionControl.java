package io.convllava.coordinator.server;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Bounds the generations running at once ({@code maxActive}) and those waiting for a slot ({@code maxQueued}).
 * A request beyond both is refused at once with RESOURCE_EXHAUSTED and a retry hint: the time the queue ahead
 * of it needs at the recent average generation time, also sent as the {@code retry-after-ms} trailer.
 */
public final class AdmissionControl {
    public static final Metadata.Key<String> RETRY_AFTER_MS =
            Metadata.Key.of("retry-after-ms", Metadata.ASCII_STRING_MARSHALLER);
    private static final double SMOOTHING = 0.2;

    private final int maxActive;
    private final int maxQueued;
    private final Semaphore slots;
    private final AtomicInteger waiting = new AtomicInteger();
    private volatile double averageMs = 1000;

    public AdmissionControl(int maxActive, int maxQueued) {
        if (maxActive < 1 || maxQueued < 0) {
            throw new IllegalArgumentException("need max-concurrent >= 1 and max-queued >= 0, got " + maxActive
                    + " and " + maxQueued);
        }
        this.maxActive = maxActive;
        this.maxQueued = maxQueued;
        this.slots = new Semaphore(maxActive, true);
    }

    /**
     * Waits for a slot (at most {@code maxWaitMs}, the caller's remaining deadline) and returns the permit to close
     * when the generation ends.
     */
    public Permit admit(long maxWaitMs) throws InterruptedException {
        if (slots.tryAcquire()) {
            return new Permit(System.nanoTime());
        }
        if (waiting.incrementAndGet() > maxQueued) {
            waiting.decrementAndGet();
            throw overloaded();
        }
        try {
            if (!slots.tryAcquire(maxWaitMs, TimeUnit.MILLISECONDS)) {
                throw Status.DEADLINE_EXCEEDED.withDescription("the deadline passed while waiting for a free slot ("
                        + maxActive + " generations running)").asRuntimeException();
            }
        } finally {
            waiting.decrementAndGet();
        }
        return new Permit(System.nanoTime());
    }

    /**
     * Cluster-wide admission, after {@link #admit}: waits until {@code hasRoom} (some pipeline whose nodes all take
     * another session, by what every node reports), at most {@code maxWaitMs}; then RESOURCE_EXHAUSTED with a retry
     * hint. Sending the request on would only have it refused by a full node.
     */
    public void awaitRoom(BooleanSupplier hasRoom, long maxWaitMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        long backoff = 5;
        while (!hasRoom.getAsBoolean()) {
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) > deadline) {
                long retryMs = Math.max(100, Math.round(averageMs));
                Metadata trailers = new Metadata();
                trailers.put(RETRY_AFTER_MS, Long.toString(retryMs));
                throw Status.RESOURCE_EXHAUSTED.withDescription("every pipeline of the cluster is full (its llm nodes"
                        + " hold as many sessions as they take): retry in about " + retryMs + " ms")
                        .asRuntimeException(trailers);
            }
            Thread.sleep(backoff);
            backoff = Math.min(200, backoff * 2);
        }
    }

    public int active() {
        return maxActive - slots.availablePermits();
    }

    public int capacity() {
        return maxActive;
    }

    private synchronized void recordDuration(double ms) {
        averageMs += SMOOTHING * (ms - averageMs);
    }

    private StatusRuntimeException overloaded() {
        long retryMs = Math.max(100, Math.round(averageMs * (waiting.get() + maxActive) / maxActive));
        Metadata trailers = new Metadata();
        trailers.put(RETRY_AFTER_MS, Long.toString(retryMs));
        return Status.RESOURCE_EXHAUSTED.withDescription("the coordinator is busy (" + maxActive + " generations running, "
                + maxQueued + " waiting): retry in about " + retryMs + " ms").asRuntimeException(trailers);
    }

    /** One admitted generation; closing it frees the slot and feeds the retry estimate. */
    public final class Permit implements AutoCloseable {
        private final long admittedAt;
        private boolean closed;

        private Permit(long admittedAt) {
            this.admittedAt = admittedAt;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                recordDuration((System.nanoTime() - admittedAt) / 1e6);
                slots.release();
            }
        }
    }
}
