package io.convllava.llm.schedule;

import io.convllava.common.metrics.Buckets;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;

/**
 * What an llm node tells Prometheus about its batched steps: their duration and batch size, the positions they
 * computed (prompt or decode), sessions held and waiting, KV memory, and prefix reuse hits and misses.
 */
public final class StepMetrics {
    static final Histogram STEP = Histogram.builder().name("convllava_llm_step_seconds").withoutExemplars()
            .help("Duration of one batched step of this node's layers").classicOnly()
            .classicUpperBounds(Buckets.LATENCY_SECONDS).register();
    static final Histogram BATCH = Histogram.builder().name("convllava_llm_batch_size").withoutExemplars()
            .help("Sessions in one batched step").classicOnly()
            .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128).register();
    static final Counter POSITIONS = Counter.builder().name("convllava_llm_positions_total").withoutExemplars()
            .help("Positions computed by this node's layers, by kind (prompt or decode)").labelNames("kind")
            .register();
    static final Gauge SESSIONS = Gauge.builder().name("convllava_llm_sessions")
            .help("Sessions holding a KV cache on this node").register();
    static final Gauge WAITING = Gauge.builder().name("convllava_llm_waiting_steps")
            .help("Steps queued for admission (waiting for KV memory or a batch slot)").register();
    static final Gauge KV_BYTES = Gauge.builder().name("convllava_llm_kv_bytes")
            .help("KV cache memory, by kind: held by sessions, kept for prefix reuse, or free (allocated, for the"
                    + " next sessions)").labelNames("kind")
            .register();
    private static final Counter PREFIX_REUSE = Counter.builder().name("convllava_llm_prefix_reuse_total")
            .withoutExemplars()
            .help("Sessions asking to continue from a kept cache, by outcome (hit, or miss: evicted)")
            .labelNames("outcome").register();

    private StepMetrics() {
    }

    /** A session asked to continue from a kept cache, which this node held ({@code hit}) or not. */
    public static void prefixReuse(boolean hit) {
        PREFIX_REUSE.labelValues(hit ? "hit" : "miss").inc();
    }
}
