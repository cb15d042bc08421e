package io.convllava.coordinator.generate;

import io.convllava.coordinator.grounding.BoundingBox;

import java.util.List;

/**
 * The outcome of one generation.
 *
 * @param inputIds      prompt ids with -200 where each image goes
 * @param tokens        generated ids (the end-of-sequence token excluded)
 * @param prefillLogits logits at the last prompt position, when asked (else null)
 * @param boxes         grounding boxes parsed from the answer, mapped to original-image pixels (empty if none)
 * @param cachedTokens  prompt positions not computed again: continued from a cache kept by an earlier request
 */
public record GenerationResult(int[] inputIds, int[] tokens, String text, FinishReason finishReason,
                               int promptTokens, int imageTokens, float[] prefillLogits, List<EncodedImage> images,
                               List<BoundingBox> boxes, Timings timings, int cachedTokens) {
}
