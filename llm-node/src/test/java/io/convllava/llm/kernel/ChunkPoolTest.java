package io.convllava.llm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Every chunk runs exactly once per job, job after job; a small job stays on the caller; the caller waits for chunks
 * still running elsewhere; a failing chunk surfaces in the caller.
 */
class ChunkPoolTest {

    @Test
    void everyChunkOnceAcrossManyJobs() {
        try (ChunkPool pool = new ChunkPool(3)) {
            for (int job = 0; job < 20_000; job++) {
                int chunks = 1 + job % 7;
                AtomicIntegerArray calls = new AtomicIntegerArray(chunks);
                pool.run(chunks, calls::incrementAndGet);
                for (int i = 0; i < chunks; i++) {
                    assertEquals(1, calls.get(i), "job " + job + " chunk " + i);
                }
            }
        }
    }

    @Test
    void aSmallJobRunsOnTheCallerAlone() {
        try (ChunkPool pool = new ChunkPool(2)) {
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            for (int job = 0; job < 1_000; job++) {
                pool.run(8, ChunkPool.PARALLEL_WORK - 1, i -> threads.add(Thread.currentThread()));
            }
            assertEquals(Set.of(Thread.currentThread()), threads);
        }
    }

    @Test
    void theCallerWaitsForAChunkThatOutlastsItsSpin() {
        try (ChunkPool pool = new ChunkPool(2)) {
            for (int job = 0; job < 20; job++) {
                AtomicIntegerArray calls = new AtomicIntegerArray(2);
                Thread caller = Thread.currentThread();
                pool.run(2, i -> {
                    if (Thread.currentThread() != caller) {
                        LockSupport.parkNanos(3 * ChunkPool.SPIN_NANOS); // the caller parks meanwhile
                    }
                    calls.incrementAndGet(i);
                });
                assertEquals("[1, 1]", calls.toString(), "job " + job);
            }
        }
    }

    @Test
    void aFailingChunkIsRethrownAndThePoolStaysUsable() {
        try (ChunkPool pool = new ChunkPool(2)) {
            RuntimeException boom = new RuntimeException("boom");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.run(8, i -> {
                if (i == 5) {
                    throw boom;
                }
            }));
            assertSame(boom, thrown.getCause());
            AtomicIntegerArray calls = new AtomicIntegerArray(4);
            pool.run(4, calls::incrementAndGet);
            assertEquals("[1, 1, 1, 1]", calls.toString());
        }
    }
}
