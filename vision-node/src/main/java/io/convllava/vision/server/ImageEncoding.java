package io.convllava.vision.server;

import io.convllava.common.tensor.HostTensor;

/**
 * One image through the tower and projector.
 *
 * @param features   float32 [N, C], the last stage's tokens before the projector
 * @param embeddings float32 [N, H], what replaces the image's placeholder in the prompt
 */
record ImageEncoding(HostTensor features, HostTensor embeddings) {
}
