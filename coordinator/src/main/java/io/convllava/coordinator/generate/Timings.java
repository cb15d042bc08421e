package io.convllava.coordinator.generate;

/** Milliseconds spent in each phase of one generation. */
public record Timings(double encodeMs, double prefillMs, double firstTokenMs, double totalMs) {
}
