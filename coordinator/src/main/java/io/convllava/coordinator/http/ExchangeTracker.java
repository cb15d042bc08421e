package io.convllava.coordinator.http;

/** Counts the exchanges in progress, so that stopping can wait for them. */
final class ExchangeTracker {
    private int active;

    synchronized void started() {
        active++;
    }

    synchronized void ended() {
        active--;
        if (active == 0) {
            notifyAll();
        }
    }

    /** Waits until no exchange is in progress, at most {@code millis}; whether none is. */
    synchronized boolean awaitIdle(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (active > 0) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }
}
