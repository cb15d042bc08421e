package io.convllava.coordinator.generate;

/**
 * Milliseconds spent in each phase of one generation.
 *
 * @param encodeMs rendering and tokenizing the prompt, then the images ({@code imageMs})
 * @param imageMs  decoding, preprocessing and encoding the images, or finding their embeddings in a cache
 */
public record Timings(double encodeMs, double imageMs, double prefillMs, double firstTokenMs, double totalMs) {
}
