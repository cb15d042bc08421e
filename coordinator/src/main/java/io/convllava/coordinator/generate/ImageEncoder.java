package io.convllava.coordinator.generate;

import java.util.List;

/** Turns request images into embeddings: in this process, or on vision nodes. */
public interface ImageEncoder {

    /** Encodes the images in order; invalid images raise IllegalArgumentException naming the image index. */
    List<EncodedImage> encode(List<ImageInput> images, boolean keepIntermediates);

    /** Visual tokens each image occupies in the decoder sequence. */
    int tokensPerImage();
}
