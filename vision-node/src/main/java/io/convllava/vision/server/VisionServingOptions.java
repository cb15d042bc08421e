package io.convllava.vision.server;

import io.convllava.vision.cache.EmbeddingCache;

/**
 * How a vision node serves its encoder.
 *
 * @param maxBatch            most images stacked into one tower call ({@link EncodeQueue}); the encoder's memory
 *                            limit may admit fewer
 * @param embeddingCacheBytes byte budget of the embedding cache ({@link EmbeddingCache}); 0 disables it
 * @param preparationThreads  threads decoding and preprocessing images ({@link ImagePreparation})
 * @param maxQueuedImages     images (not answered from the cache) a node takes on at once, from decoding to answer;
 *                            a request that would exceed it is refused with RESOURCE_EXHAUSTED, unless the node is
 *                            idle (so a request larger than the bound still runs alone)
 */
public record VisionServingOptions(int maxBatch, long embeddingCacheBytes, int preparationThreads,
                                   int maxQueuedImages) {
    /**
     * Images per tower call at most: enough to fill a GPU; on a CPU a batch costs less per image than single
     * encodes too (docs/benchmarks.md, "Vision serving"). The encode memory limit may admit fewer.
     */
    public static final int DEFAULT_MAX_BATCH = 8;
    /** Images in flight per node: 4 full batches; at 1536 px their pixels alone take 900 MiB. */
    public static final int DEFAULT_MAX_QUEUED_IMAGES = 32;

    /** Batches of up to 8, the default cache, a preparation thread per core. */
    public static final VisionServingOptions DEFAULTS = new VisionServingOptions(DEFAULT_MAX_BATCH,
            EmbeddingCache.DEFAULT_MAX_BYTES, Runtime.getRuntime().availableProcessors(), DEFAULT_MAX_QUEUED_IMAGES);

    public VisionServingOptions {
        requirePositive("maxBatch", maxBatch);
        requirePositive("preparationThreads", preparationThreads);
        requirePositive("maxQueuedImages", maxQueuedImages);
        if (embeddingCacheBytes < 0) {
            throw new IllegalArgumentException("embedding cache size must be >= 0 bytes (0 disables it), got "
                    + embeddingCacheBytes);
        }
    }

    public VisionServingOptions withMaxBatch(int images) {
        return new VisionServingOptions(images, embeddingCacheBytes, preparationThreads, maxQueuedImages);
    }

    public VisionServingOptions withEmbeddingCacheBytes(long bytes) {
        return new VisionServingOptions(maxBatch, bytes, preparationThreads, maxQueuedImages);
    }

    public VisionServingOptions withPreparationThreads(int threads) {
        return new VisionServingOptions(maxBatch, embeddingCacheBytes, threads, maxQueuedImages);
    }

    public VisionServingOptions withMaxQueuedImages(int images) {
        return new VisionServingOptions(maxBatch, embeddingCacheBytes, preparationThreads, images);
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
