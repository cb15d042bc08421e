package io.convllava.coordinator.server;

import io.convllava.common.transport.BearerTokens;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.httpapi.HttpApiConfig;

import java.time.Duration;

/**
 * How a coordinator runs.
 *
 * @param nodeId           its id in the cluster (one path segment); null = {@code coordinator-<host>:<port>}
 * @param host             address to bind and to advertise
 * @param port             0 = any free port
 * @param maxConcurrent    generations running at once
 * @param maxQueued        generations waiting for a slot before new ones are refused with RESOURCE_EXHAUSTED
 * @param imageCacheBytes  budget of the recently seen images clients may refer to by SHA-256
 * @param embeddingCacheBytes budget of the embeddings of recently encoded images, taken instead of asking a vision
 *                         node again ({@link EmbeddingCache}); 0 = none
 * @param planSettleDelay  quiet time after a membership change before the plan leader replans
 * @param reusePrefixes    whether requests continue from the KV caches earlier ones left on the pipelines; off, every
 *                         prompt is computed in full, so that a seeded sampled answer does not depend on what was
 *                         asked before (a reused cache gives logits that differ in their last bits)
 * @param tokens           bearer tokens the public API requires; null = none (development only)
 * @param canaryInterval   how often a canary generation checks that the cluster computes ({@link Canary});
 *                         zero = never
 * @param http             the OpenAI-compatible HTTP API beside the gRPC one; null = none
 */
public record CoordinatorConfig(String nodeId, String host, int port, int maxConcurrent, int maxQueued,
                                long imageCacheBytes, long embeddingCacheBytes, Duration planSettleDelay,
                                TransportOptions transport, boolean reusePrefixes, BearerTokens tokens,
                                Duration canaryInterval,
                                HttpApiConfig http) {
    public static final int DEFAULT_PORT = 50051;

    /** Defaults for everything but the id, host and port. */
    public static CoordinatorConfig defaults(String nodeId, String host, int port) {
        return new CoordinatorConfig(nodeId, host, port, 64, 128, 256L << 20, 64L << 20, Duration.ofMillis(500),
                TransportOptions.DEFAULTS, true, null, Duration.ZERO, null);
    }

    public CoordinatorConfig withLimits(int maxConcurrent, int maxQueued) {
        return new CoordinatorConfig(nodeId, host, port, maxConcurrent, maxQueued, imageCacheBytes, embeddingCacheBytes,
                planSettleDelay, transport, reusePrefixes, tokens, canaryInterval, http);
    }

    public CoordinatorConfig withPlanSettleDelay(Duration delay) {
        return new CoordinatorConfig(nodeId, host, port, maxConcurrent, maxQueued, imageCacheBytes, embeddingCacheBytes,
                delay, transport, reusePrefixes, tokens, canaryInterval, http);
    }

    public CoordinatorConfig withPrefixReuse(boolean reuse) {
        return new CoordinatorConfig(nodeId, host, port, maxConcurrent, maxQueued, imageCacheBytes, embeddingCacheBytes,
                planSettleDelay, transport, reuse, tokens, canaryInterval, http);
    }

    public CoordinatorConfig withTransport(TransportOptions options) {
        return new CoordinatorConfig(nodeId, host, port, maxConcurrent, maxQueued, imageCacheBytes, embeddingCacheBytes,
                planSettleDelay, options, reusePrefixes, tokens, canaryInterval, http);
    }

    public CoordinatorConfig withTokens(BearerTokens required) {
        return new CoordinatorConfig(nodeId, host, port, maxConcurrent, maxQueued, imageCacheBytes, embeddingCacheBytes,
                planSettleDelay, transport, reusePrefixes, required, canaryInterval, http);
    }

    public CoordinatorConfig withCanaryInterval(Duration interval) {
        return new CoordinatorConfig(nodeId, host, port, maxConcurrent, maxQueued, imageCacheBytes, embeddingCacheBytes,
                planSettleDelay, transport, reusePrefixes, tokens, interval, http);
    }

    public CoordinatorConfig withEmbeddingCache(long bytes) {
        return new CoordinatorConfig(nodeId, host, port, maxConcurrent, maxQueued, imageCacheBytes, bytes,
                planSettleDelay, transport, reusePrefixes, tokens, canaryInterval, http);
    }

    /** With the HTTP API ({@code --http-port}); null = none. */
    public CoordinatorConfig withHttp(HttpApiConfig api) {
        return new CoordinatorConfig(nodeId, host, port, maxConcurrent, maxQueued, imageCacheBytes, embeddingCacheBytes,
                planSettleDelay, transport, reusePrefixes, tokens, canaryInterval, api);
    }
}
