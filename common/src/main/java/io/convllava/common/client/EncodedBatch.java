package io.convllava.common.client;

import io.convllava.common.tensor.HostTensor;

import java.util.List;

/**
 * What a vision node returned for one {@code Encode} call, in request order.
 *
 * @param embeddings     per image [tokensPerImage, hidden]: replaces the image's placeholder in the prompt
 * @param features       per image [tokensPerImage, channels] before the projector; empty unless asked for
 * @param sizes          each original image's width and height in pixels
 * @param tokensPerImage sequence positions one image occupies
 * @param resolution     side of the square model input in pixels
 */
public record EncodedBatch(List<HostTensor> embeddings, List<HostTensor> features, List<Size> sizes,
                           int tokensPerImage, int resolution) {

    public EncodedBatch {
        embeddings = List.copyOf(embeddings);
        features = List.copyOf(features);
        sizes = List.copyOf(sizes);
    }

    /** Width and height of an original image in pixels. */
    public record Size(int width, int height) {
    }
}
