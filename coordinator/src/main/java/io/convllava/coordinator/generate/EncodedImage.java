package io.convllava.coordinator.generate;

import io.convllava.common.tensor.HostTensor;

/**
 * One image after the vision tower and projector.
 *
 * @param embeddings [tokens, hidden]: what replaces the {@code <image>} placeholder
 * @param width      original image width in pixels (the padded square's side when only pixels were given)
 * @param height     original image height in pixels
 * @param pixels     [3, R, R] preprocessed input, when the encoder was asked to keep it (else null)
 * @param features   [tokens, C] raw last-stage features, when kept (else null)
 */
public record EncodedImage(HostTensor embeddings, int width, int height, HostTensor pixels, HostTensor features) {
}
