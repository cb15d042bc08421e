package io.convllava.coordinator.server;

import io.convllava.common.metrics.Buckets;
import io.convllava.coordinator.httpapi.RequestTotals;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;

/**
 * What a coordinator tells Prometheus about the requests of its public API: how many and how they ended, time to
 * first token, the time between tokens, tokens and prompt positions, and requests running and waiting. Rates (tokens
 * per second, requests per second) are Prometheus' {@code rate()} of the counters.
 */
final class CoordinatorMetrics {
    static final Counter REQUESTS = Counter.builder().name("convllava_requests_total").withoutExemplars()
            .help("Generate requests finished, by gRPC status code").labelNames("code").register();
    static final Histogram FIRST_TOKEN = Histogram.builder().name("convllava_time_to_first_token_seconds")
            .withoutExemplars()
            .help("From a request's arrival to its first generated token (queueing and prefill included)")
            .classicOnly().classicUpperBounds(Buckets.FIRST_TOKEN_SECONDS).register();
    static final Histogram TOKEN_LATENCY = Histogram.builder().name("convllava_token_latency_seconds")
            .withoutExemplars()
            .help("Time between successive tokens of a stream (one decode step through the pipeline)")
            .classicOnly().classicUpperBounds(Buckets.LATENCY_SECONDS).register();
    static final Histogram DURATION = Histogram.builder().name("convllava_request_duration_seconds").withoutExemplars()
            .help("From a request's arrival to its end, whatever the outcome")
            .classicOnly().classicUpperBounds(Buckets.FIRST_TOKEN_SECONDS).register();
    static final Counter GENERATED = Counter.builder().name("convllava_generated_tokens_total").withoutExemplars()
            .help("Tokens generated and streamed to clients").register();
    static final Counter PROMPT = Counter.builder().name("convllava_prompt_tokens_total").withoutExemplars()
            .help("Prompt positions of finished requests (image tokens included)").register();
    static final Counter PROMPT_CACHED = Counter.builder().name("convllava_prompt_cached_tokens_total")
            .withoutExemplars()
            .help("Prompt positions continued from a KV cache an earlier request kept (prefix reuse hits)")
            .register();
    static final Counter EMBEDDING_CACHE = Counter.builder().name("convllava_embedding_cache_total")
            .withoutExemplars()
            .help("Images of requests looked up among the embeddings this coordinator had encoded recently, by result"
                    + " (hit: no vision node asked)")
            .labelNames("result").register();
    static final Gauge ACTIVE = Gauge.builder().name("convllava_requests_active")
            .help("Requests admitted and generating").register();
    static final Gauge QUEUED = Gauge.builder().name("convllava_requests_queued")
            .help("Requests waiting for a generation slot").register();

    private CoordinatorMetrics() {
    }

    /** The totals so far (of this process: the metrics are the JVM's, shared by coordinators started in it). */
    static RequestTotals totals() {
        long finished = Math.round(REQUESTS.collect().getDataPoints().stream()
                .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum());
        HistogramSnapshot firstToken = FIRST_TOKEN.collect();
        HistogramSnapshot duration = DURATION.collect();
        return new RequestTotals(finished, Math.round(GENERATED.get()),
                firstToken.getDataPoints().stream().mapToDouble(HistogramSnapshot.HistogramDataPointSnapshot::getSum)
                        .sum(),
                firstToken.getDataPoints().stream().mapToLong(HistogramSnapshot.HistogramDataPointSnapshot::getCount)
                        .sum(),
                duration.getDataPoints().stream().mapToDouble(HistogramSnapshot.HistogramDataPointSnapshot::getSum)
                        .sum(),
                Math.round(ACTIVE.get()), Math.round(QUEUED.get()));
    }
}
