package io.convllava.vision.model;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A byte-weighted semaphore over activation memory: each encode holds its estimated bytes while it runs, so the
 * encodes running together never exceed the limit. Fair, so a large encode waiting is not overtaken by later small
 * ones. Counted in MiB (a semaphore's permits are ints): reservations round up, the limit rounds down.
 */
final class ActivationBudget {
    private static final int MIB = 20;

    private final long limitBytes;
    private final int limitMib;
    private final Semaphore free;
    private final AtomicLong peakMib = new AtomicLong();

    ActivationBudget(long limitBytes) {
        if (limitBytes < 1L << MIB || limitBytes >> MIB > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("encode memory limit must be between 1 MiB and 2 PiB, got "
                    + limitBytes + " bytes");
        }
        this.limitBytes = limitBytes;
        this.limitMib = (int) (limitBytes >> MIB);
        this.free = new Semaphore(limitMib, true);
    }

    long limitBytes() {
        return limitBytes;
    }

    /** Whether a reservation of these bytes can ever be granted. */
    boolean fits(long bytes) {
        return mib(bytes) <= limitMib;
    }

    /** Waits until the bytes are free and holds them until the reservation closes; the caller checked {@link #fits}. */
    Reservation reserve(long bytes) {
        int mib = (int) mib(bytes);
        free.acquireUninterruptibly(mib);
        peakMib.accumulateAndGet(limitMib - free.availablePermits(), Math::max);
        return () -> free.release(mib);
    }

    /** The most held at one time so far, in bytes (MiB granularity). */
    long peakBytes() {
        return peakMib.get() << MIB;
    }

    private static long mib(long bytes) {
        return (bytes + (1L << MIB) - 1) >> MIB;
    }

    /** Held bytes, given back on close. */
    interface Reservation extends AutoCloseable {
        @Override
        void close();
    }
}
