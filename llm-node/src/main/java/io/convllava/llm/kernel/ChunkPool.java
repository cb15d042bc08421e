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
 */
final class ChunkPool implements AutoCloseable {
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
    synchronized void run(int chunks, IntConsumer body) {
        if (closed) {
            throw new IllegalStateException("the pool is closed");
        }
        Job job = new Job(chunks, body);
        current = job;
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
        job.drain();
        for (int spins = 1; job.done.get() < chunks; spins++) {
            if (spins % 4096 == 0) {
                Thread.yield(); // a worker holding the last chunk was preempted: let it run
            } else {
                Thread.onSpinWait(); // the last chunks in flight: tens of microseconds
            }
        }
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
                    done.incrementAndGet();
                }
            }
        }
    }
}
