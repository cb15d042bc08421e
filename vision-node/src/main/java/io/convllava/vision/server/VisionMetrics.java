package io.convllava.vision.server;

import io.prometheus.metrics.core.metrics.Counter;

/**
 * What a vision node tells Prometheus beyond its calls ({@code convllava_grpc_server_*}): the images it answered, by
 * whether the embedding cache had them (a hit) or the tower encoded them.
 */
final class VisionMetrics {
    static final Counter IMAGES = Counter.builder().name("convllava_vision_images_total").withoutExemplars()
            .help("Images answered, by source: cache (embedding cache hit) or encoded (miss: decoded, preprocessed"
                    + " and encoded)").labelNames("source").register();

    private VisionMetrics() {
    }
}
