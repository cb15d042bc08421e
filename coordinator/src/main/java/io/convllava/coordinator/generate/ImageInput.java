package io.convllava.coordinator.generate;

import io.convllava.common.tensor.HostTensor;

/**
 * An image of a request: encoded file bytes (PNG, JPEG, BMP, GIF), or an already preprocessed pixel tensor
 * [3, R, R] (parity checks feed the reference pixels this way).
 */
public record ImageInput(byte[] bytes, HostTensor pixels) {

    public static ImageInput ofBytes(byte[] bytes) {
        return new ImageInput(bytes, null);
    }

    public static ImageInput ofPixels(HostTensor pixels) {
        return new ImageInput(null, pixels);
    }
}
