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
 * @param cached         per image, whether the node answered it from its embedding cache
 */
public record EncodedBatch(List<HostTensor> embeddings, List<HostTensor> features, List<Size> sizes,
                           int tokensPerImage, int resolution, List<Boolean> cached) {

    public EncodedBatch {
        embeddings = List.copyOf(embeddings);
        features = List.copyOf(features);
        sizes = List.copyOf(sizes);
        cached = List.copyOf(cached);
    }

    /** Images the node answered from its embedding cache. */
    public int cachedCount() {
        return (int) cached.stream().filter(c -> c).count();
    }

    /** Width and height of an original image in pixels. */
    public record Size(int width, int height) {
    }
}
