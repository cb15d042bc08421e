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
    /** Batch size on a GPU: enough to fill it, small enough for its memory at 1536 px. */
    public static final int GPU_MAX_BATCH = 8;
    /**
     * Batch size on a CPU: 1, because batching gains nothing per image there (docs/benchmarks.md, "Vision serving")
     * and a batch makes its first image wait for the last.
     */
    public static final int CPU_MAX_BATCH = 1;
    /** Images in flight per node: 4 full GPU batches; at 1536 px their pixels alone take 900 MiB. */
    public static final int DEFAULT_MAX_QUEUED_IMAGES = 32;

    /** CPU batching, the default cache, a preparation thread per core. */
    public static final VisionServingOptions DEFAULTS = new VisionServingOptions(CPU_MAX_BATCH,
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

    /** The defaults with the batch size for the device: {@link #GPU_MAX_BATCH} on a GPU, else {@link #CPU_MAX_BATCH}. */
    public static VisionServingOptions forDevice(boolean gpu) {
        return DEFAULTS.withMaxBatch(gpu ? GPU_MAX_BATCH : CPU_MAX_BATCH);
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
