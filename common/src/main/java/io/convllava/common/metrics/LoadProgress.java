package io.convllava.common.metrics;

import io.prometheus.metrics.core.metrics.Gauge;

/**
 * {@code convllava_model_load_progress{part}}: the fraction of a model part (decoder layers, vision tower) loaded,
 * 0 to 1, so that a dashboard shows a slow start-up as it happens.
 */
public final class LoadProgress {
    private static final Gauge PROGRESS = Gauge.builder().name("convllava_model_load_progress")
            .help("Fraction of the model part loaded by this node (0 to 1)").labelNames("part").register();

    private LoadProgress() {
    }

    public static void report(String part, long done, long total) {
        PROGRESS.labelValues(part).set(total <= 0 ? 1 : (double) done / total);
    }
}
