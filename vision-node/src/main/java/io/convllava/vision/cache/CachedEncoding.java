package io.convllava.vision.cache;

import io.convllava.proto.v1.ImageSize;
import io.convllava.proto.v1.Tensor;

/**
 * One image's answer as the Encode response carries it, kept ready to send again: serving a hit copies nothing.
 *
 * @param embeddings [tokens, hidden] after the projector
 * @param features   [tokens, channels] before the projector, or null when the encode that filled the entry was not
 *                   asked for them
 * @param size       the original image's width and height
 */
public record CachedEncoding(Tensor embeddings, Tensor features, ImageSize size) {
    /** Rough per-entry bookkeeping beside the tensor bytes (key, map entry, messages). */
    static final long OVERHEAD_BYTES = 512;

    public boolean hasFeatures() {
        return features != null;
    }

    /** What the entry holds in memory: the tensor bytes plus {@link #OVERHEAD_BYTES}. */
    public long bytes() {
        return embeddings.getData().size() + (features == null ? 0 : features.getData().size()) + OVERHEAD_BYTES;
    }
}
