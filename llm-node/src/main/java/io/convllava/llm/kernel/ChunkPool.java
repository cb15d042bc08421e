package io.convllava.llm.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of threads that run the chunks [0, n) of one job: the calling thread plus (threads - 1) daemon workers.
 * Chunks are handed out one at a time from a shared counter, so a thread that the OS preempts (the machine is shared)
 * delays only the chunk it holds. Jobs run one at a time: callers from several threads take turns.
 *
 * <p>A job too small to pay for waking a worker ({@value #PARALLEL_WORK} multiply-adds, tens of microseconds) runs on
 * the caller alone: waking a parked thread costs microseconds, and on a virtual machine whose other vCPU has halted,
 * far more. A caller whose last chunks are still running elsewhere spins for {@value #SPIN_NANOS} ns, then parks until
 * the last one ends: on a host shared with other processes a spinning caller would take the core that the preempted
 * worker holding the chunk is waiting for.
 */
final class ChunkPool implements AutoCloseable {
    /** Multiply-adds (or bytes) below which a job runs on the calling thread alone. */
    static final long PARALLEL_WORK = 1 << 20;
    static final long SPIN_NANOS = 20_000;
    private final List<Thread> workers = new ArrayList<>();
    private volatile Job current;
    private volatile boolean closed;

    ChunkPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        for (int i = 1; i < threads; i++) {
            Thread worker = new Thread(this::work, "half-matmul-" + i);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
    }

    int threads() {
        return workers.size() + 1;
    }

    /** Calls {@code body.accept(i)} once for each i in [0, chunks), on all threads; returns when every call has. */
    void run(int chunks, IntConsumer body) {
        run(chunks, Long.MAX_VALUE, body);
    }

    /**
     * As {@link #run(int, IntConsumer)}, on the calling thread alone when {@code work} (the job's multiply-adds, or
     * bytes read) is below {@value #PARALLEL_WORK} or there is a single chunk.
     */
    synchronized void run(int chunks, long work, IntConsumer body) {
        if (closed) {
            throw new IllegalStateException("the pool is closed");
        }
        Job job = new Job(chunks, body);
        if (chunks > 1 && work >= PARALLEL_WORK) {
            current = job;
            for (Thread worker : workers) {
                LockSupport.unpark(worker);
            }
        }
        job.drain();
        job.await();
        if (job.failure != null) {
            throw new IllegalStateException("a kernel chunk failed", job.failure);
        }
    }

    private void work() {
        Job seen = null;
        while (!closed) {
            Job job = current;
            if (job == seen) {
                LockSupport.park(this);
                continue;
            }
            job.drain();
            seen = job;
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
    }

    private static final class Job {
        final int chunks;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;
        /** The caller once it parks for the last chunks; the thread that ends the last one unparks it. */
        volatile Thread waiter;

        Job(int chunks, IntConsumer body) {
            this.chunks = chunks;
            this.body = body;
        }

        void drain() {
            for (int i = next.getAndIncrement(); i < chunks; i = next.getAndIncrement()) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    if (done.incrementAndGet() == chunks) {
                        Thread w = waiter;
                        if (w != null) {
                            LockSupport.unpark(w);
                        }
                    }
                }
            }
        }

        /** Waits for the chunks other threads still run: a short spin, then parked. */
        void await() {
            if (done.get() == chunks) {
                return;
            }
            long spinEnd = System.nanoTime() + SPIN_NANOS;
            for (int spins = 1; done.get() < chunks; spins++) {
                if ((spins & 63) == 0 && System.nanoTime() > spinEnd) {
                    break;
                }
                Thread.onSpinWait();
            }
            // set before the check: the thread ending the last chunk counts it, then reads this (both volatile)
            waiter = Thread.currentThread();
            while (done.get() < chunks) {
                LockSupport.parkNanos(this, 1_000_000);
            }
        }
    }
}
