package io.convllava.common.metrics;

/** Histogram bucket bounds shared by the roles' metrics, in seconds. */
public final class Buckets {
    /** Calls and steps: 1 ms to a minute. */
    public static final double[] LATENCY_SECONDS =
            {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    /** Time to first token: 10 ms to 2 minutes (long prompts, queueing). */
    public static final double[] FIRST_TOKEN_SECONDS =
            {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

    private Buckets() {
    }
}
