package io.convllava.llm.cpu;

import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The KV blocks that sessions of one shard gave back, handed to the next sessions before new ones are allocated. A
 * node serving steadily then allocates no KV memory and leaves none to the collector: blocks outlive young
 * collections, so dropped ones would sit in the old generation, resident, until a full collection. Holds at most
 * what the shard's sessions held at once (bounded by the node's KV budget). Also counts the caches that share a block
 * ({@link KvBlocks#copy}): a shared block comes back here when the last of them gives it. Thread-safe.
 */
final class KvBlockPool {
    private final int blockFloats;
    private final ArrayDeque<float[]> free = new ArrayDeque<>();
    /** Blocks held by two or more caches, and by how many. */
    private final Map<float[], Integer> holders = new IdentityHashMap<>();

    /** @param blockFloats the length of every block: positions per block x values per position */
    KvBlockPool(int blockFloats) {
        this.blockFloats = blockFloats;
    }

    /** A block whose contents are left over from an earlier session: callers write positions before reading them. */
    synchronized float[] take() {
        float[] block = free.poll();
        return block != null ? block : new float[blockFloats];
    }

    /** One more cache holds {@code block}, which another already holds. */
    synchronized void share(float[] block) {
        holders.merge(block, 2, (held, two) -> held + 1);
    }

    /** Whether more than one cache holds {@code block}: none may write it. */
    synchronized boolean isShared(float[] block) {
        return holders.containsKey(block);
    }

    /** A cache lets go of {@code block}: it is free once no other cache holds it. */
    synchronized void give(float[] block) {
        Integer held = holders.get(block);
        if (held == null) {
            free.push(block);
        } else if (held == 2) {
            holders.remove(block);
        } else {
            holders.put(block, held - 1);
        }
    }

    /** Bytes of the blocks held here, free for the next sessions. */
    synchronized long bytes() {
        return (long) free.size() * blockFloats * Float.BYTES;
    }
}
