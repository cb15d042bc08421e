package io.convllava.vision.model;

import io.convllava.common.tensor.HostTensor;

/**
 * The output of {@link VisionEncoder#encode}: per image, the tower's visual tokens and their projection into
 * the LLM's embedding space (what replaces the {@code <image>} placeholder).
 *
 * @param features   float32 [B, N, C] raw last-stage tokens, row-major (h, w) order
 * @param embeddings float32 [B, N, H] after the projector
 */
public record EncodedImages(HostTensor features, HostTensor embeddings) {
}
