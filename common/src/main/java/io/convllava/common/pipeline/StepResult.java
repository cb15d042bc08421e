package io.convllava.common.pipeline;

/**
 * What one pass through the whole decoder pipeline gives back: the sampled token and, when asked for, the logits
 * at the last position ([vocab], float32).
 */
public record StepResult(int token, float[] logits) {
}
