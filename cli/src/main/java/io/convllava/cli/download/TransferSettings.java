package io.convllava.cli.download;

import java.time.Duration;

/**
 * How patient a download is.
 *
 * @param timeout    how long a request may wait for its answer, and a transfer go without a byte, before the attempt
 *                   counts as failed
 * @param retries    further attempts after a failed one (connection lost, timeout, 5xx); a transfer resumes where it
 *                   stopped, and an attempt that moved bytes forward does not count
 * @param firstPause the pause before the first retry; it doubles for each further one, up to 30 s
 */
public record TransferSettings(Duration timeout, int retries, Duration firstPause) {
    public static final TransferSettings DEFAULTS = new TransferSettings(Duration.ofSeconds(30), 5,
            Duration.ofSeconds(1));
    private static final Duration LONGEST_PAUSE = Duration.ofSeconds(30);

    public TransferSettings {
        if (timeout.isNegative() || timeout.isZero() || retries < 0 || firstPause.isNegative()) {
            throw new IllegalArgumentException("need a positive timeout, retries >= 0 and a pause >= 0, got "
                    + timeout + ", " + retries + ", " + firstPause);
        }
    }

    /** The pause before retry number {@code retry} (1 for the first). */
    Duration pauseBefore(int retry) {
        Duration pause = firstPause.multipliedBy(1L << Math.min(retry - 1, 20));
        return pause.compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : pause;
    }
}
