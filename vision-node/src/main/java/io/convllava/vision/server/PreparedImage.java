package io.convllava.vision.server;

import io.convllava.common.tensor.HostTensor;

/**
 * A decoded and preprocessed image, ready for the tower.
 *
 * @param pixels float32 [3, R, R] model input
 * @param width  the original image's width in pixels
 * @param height the original image's height in pixels
 */
record PreparedImage(HostTensor pixels, int width, int height) {
}
