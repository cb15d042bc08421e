package io.convllava.coordinator.httpapi;

/**
 * The running totals of the requests a coordinator process has served, as its Prometheus metrics count them since it
 * started. {@code GET /v1/cluster} reports them so that the cluster page can show recent throughput and latency from
 * the difference between two of its polls, without a metrics endpoint.
 *
 * @param finished           requests finished, whatever the outcome
 * @param generatedTokens    tokens generated and streamed
 * @param firstTokenSeconds  the sum of the times to first token
 * @param firstTokens        how many times to first token that sum holds
 * @param durationSeconds    the sum of the requests' durations
 * @param active             requests generating now
 * @param queued             requests waiting for a generation slot now
 */
public record RequestTotals(long finished, long generatedTokens, double firstTokenSeconds, long firstTokens,
                            double durationSeconds, long active, long queued) {
}
