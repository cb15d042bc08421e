package io.convllava.llm.cpu;

import java.util.ArrayDeque;

/**
 * The KV blocks that sessions of one shard gave back, handed to the next sessions before new ones are allocated. A
 * node serving steadily then allocates no KV memory and leaves none to the collector: blocks outlive young
 * collections, so dropped ones would sit in the old generation, resident, until a full collection. Holds at most
 * what the shard's sessions held at once (bounded by the node's KV budget). Thread-safe.
 */
final class KvBlockPool {
    private final int blockFloats;
    private final ArrayDeque<float[]> free = new ArrayDeque<>();

    /** @param blockFloats the length of every block: positions per block x values per position */
    KvBlockPool(int blockFloats) {
        this.blockFloats = blockFloats;
    }

    /** A block whose contents are left over from an earlier session: callers write positions before reading them. */
    synchronized float[] take() {
        float[] block = free.poll();
        return block != null ? block : new float[blockFloats];
    }

    synchronized void give(float[] block) {
        free.push(block);
    }

    /** Bytes of the blocks held here, free for the next sessions. */
    synchronized long bytes() {
        return (long) free.size() * blockFloats * Float.BYTES;
    }
}
