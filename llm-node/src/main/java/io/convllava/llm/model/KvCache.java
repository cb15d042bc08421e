package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * One session's keys and values for the layers of one shard, in the session's own manager: per layer
 * [kvHeads, capacity, headDim] buffers, filled from position 0 up to {@link #length()}. Capacity doubles (one copy)
 * when a call needs more room, up to the model's maximum context. Not thread-safe: the shard serialises access.
 */
final class KvCache implements ShardEngine.Session {
    private static final int MIN_CAPACITY = 16;

    private final NDManager manager;
    private final NDArray[] keys;   // per layer [kvHeads, capacity, headDim]
    private final NDArray[] values; // per layer [kvHeads, capacity, headDim]
    private final int kvHeads;
    private final int headDim;
    private final int maxPositions;
    private final DataType dtype;
    private int capacity;
    private volatile int length; // read without the shard lock by sessionLength

    KvCache(NDManager manager, int layers, int kvHeads, int headDim, int maxPositions, DataType dtype) {
        this.manager = manager;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.maxPositions = maxPositions;
        this.dtype = dtype;
    }

    /** Positions already cached: the position offset of the next call. */
    @Override
    public int length() {
        return length;
    }

    int capacity() {
        return capacity;
    }

    /** Makes room for {@code extra} more positions, growing every layer's buffers by doubling. */
    void reserve(int extra) {
        int needed = length + extra;
        if (needed <= capacity) {
            return;
        }
        int grown = Math.max(MIN_CAPACITY, capacity);
        while (grown < needed) {
            grown *= 2;
        }
        grown = Math.min(grown, maxPositions);
        for (int layer = 0; layer < keys.length; layer++) {
            keys[layer] = regrow(keys[layer], grown);
            values[layer] = regrow(values[layer], grown);
        }
        capacity = grown;
    }

    private NDArray regrow(NDArray old, int newCapacity) {
        NDArray fresh = manager.zeros(new Shape(kvHeads, newCapacity, headDim), dtype);
        if (old != null) {
            if (length > 0) {
                NDIndex filled = new NDIndex(":, :{}", length);
                try (NDArray kept = old.get(manager, filled)) {
                    fresh.set(filled, kept);
                }
            }
            old.close();
        }
        return fresh;
    }

    /** Stores k, v [kvHeads, T, headDim] of one layer at positions [length, length + T); call {@link #reserve} first. */
    void write(int layer, NDArray k, NDArray v) {
        NDIndex slots = new NDIndex(":, {}:{}", length, length + k.getShape().get(1));
        keys[layer].set(slots, k);
        values[layer].set(slots, v);
    }

    /** Views [kvHeads, upTo, headDim] of one layer's cached keys, owned by {@code callManager}. */
    NDArray keys(int layer, NDManager callManager, int upTo) {
        return keys[layer].get(callManager, new NDIndex(":, :{}", upTo));
    }

    NDArray values(int layer, NDManager callManager, int upTo) {
        return values[layer].get(callManager, new NDIndex(":, :{}", upTo));
    }

    @Override
    public void truncate(int keep) {
        length = keep; // later writes overwrite the rest
    }

    /** A new cache, in a sibling manager of this one's, holding a copy of the first {@code keep} positions. */
    @Override
    public KvCache copy(int keep) {
        if (keep < 0 || keep > length) {
            throw new IllegalArgumentException("cannot copy " + keep + " of " + length + " cached positions");
        }
        KvCache copy = new KvCache(manager.getParentManager().newSubManager(), keys.length, kvHeads, headDim,
                maxPositions, dtype);
        if (keep > 0) {
            copy.reserve(keep);
            NDIndex filled = new NDIndex(":, :{}", keep);
            for (int layer = 0; layer < keys.length; layer++) {
                try (NDArray k = keys[layer].get(copy.manager, filled);
                     NDArray v = values[layer].get(copy.manager, filled)) {
                    copy.keys[layer].set(filled, k);
                    copy.values[layer].set(filled, v);
                }
            }
            copy.length = keep;
        }
        return copy;
    }

    /** Marks {@code count} more positions as filled, after every layer has written them. */
    void advance(int count) {
        length += count;
    }

    /** Bytes of the per-layer buffers (their capacity, not only the filled positions). */
    @Override
    public long bytes() {
        return 2L * keys.length * kvHeads * capacity * headDim * dtype.getNumOfBytes();
    }

    /** Frees the native memory of every layer's buffers. */
    @Override
    public void close() {
        manager.close();
    }
}
