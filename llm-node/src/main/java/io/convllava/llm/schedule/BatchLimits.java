package io.convllava.llm.schedule;

import io.convllava.llm.model.LlamaShard;

/**
 * How much work an llm node puts into one step, and how much KV memory it lends out.
 *
 * @param maxBatch       sessions in one step (decodes and prompt chunks together)
 * @param maxBatchTokens positions in one step; a prompt runs in chunks of at most this many (and at most
 *                       {@link LlamaShard#CHUNK})
 * @param kvCacheBytes   KV memory that sessions may reserve on this node, in bytes; a new session waits until its
 *                       reservation fits. 0 = unlimited; {@link #AUTO_KV} = decided by the node once its layers are
 *                       loaded (see {@link #resolveKv})
 * @param maxSessions    sessions holding a KV cache at once
 */
public record BatchLimits(int maxBatch, int maxBatchTokens, long kvCacheBytes, int maxSessions) {
    public static final int DEFAULT_MAX_BATCH = 32;
    /** A prompt chunk and 64 single-position steps: the workspace is sized for the largest step. */
    public static final int DEFAULT_MAX_BATCH_TOKENS = LlamaShard.CHUNK + 64;
    public static final int DEFAULT_MAX_SESSIONS = 64;
    /** kvCacheBytes: let the node decide from the memory left after loading. */
    public static final long AUTO_KV = -1;
    /** Share of the Java heap free after loading that an automatic KV budget takes (the rest: activations). */
    private static final double AUTO_HEAP_SHARE = 0.7;
    public static final BatchLimits DEFAULTS =
            new BatchLimits(DEFAULT_MAX_BATCH, DEFAULT_MAX_BATCH_TOKENS, 0, DEFAULT_MAX_SESSIONS);

    public BatchLimits {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("max batch must be at least 1, got " + maxBatch);
        }
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("max batch tokens must be at least 1, got " + maxBatchTokens);
        }
        if (kvCacheBytes < 0 && kvCacheBytes != AUTO_KV) {
            throw new IllegalArgumentException("KV cache bytes must be >= 0 (0 = unlimited), got " + kvCacheBytes);
        }
        if (maxSessions < 1) {
            throw new IllegalArgumentException("max sessions must be at least 1, got " + maxSessions);
        }
    }

    /**
     * These limits with an {@link #AUTO_KV} budget made concrete for a node whose layers are loaded: on an engine
     * whose KV caches live in the Java heap, {@value #AUTO_HEAP_SHARE} of the heap still free; elsewhere (libtorch
     * memory, GPUs) unlimited, as the heap says nothing about it.
     */
    public BatchLimits resolveKv(boolean cachesInHeap) {
        if (kvCacheBytes != AUTO_KV) {
            return this;
        }
        if (!cachesInHeap) {
            return withKvCacheBytes(0);
        }
        System.gc(); // count only what the loaded layers keep
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        return withKvCacheBytes(Math.max(1, (long) (free * AUTO_HEAP_SHARE)));
    }

    public BatchLimits withKvCacheBytes(long bytes) {
        return new BatchLimits(maxBatch, maxBatchTokens, bytes, maxSessions);
    }

    public BatchLimits withMaxSessions(int sessions) {
        return new BatchLimits(maxBatch, maxBatchTokens, kvCacheBytes, sessions);
    }
}
