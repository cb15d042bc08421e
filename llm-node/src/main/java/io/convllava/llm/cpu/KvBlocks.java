package io.convllava.llm.cpu;

/**
 * One session's keys and values for the layers of one shard, float32, in blocks of {@value #BLOCK} positions that
 * are taken from the shard's {@link KvBlockPool} as the context grows (never copied as it grows; {@link #copy} starts
 * another session from this one's positions, sharing its full blocks) and given back when it shrinks or the session
 * ends, so memory follows the context and is counted in bytes: a shared block by each cache that holds it. A value
 * block is position-major [BLOCK, kvHeads * headDim]; a key block is column-major [kvHeads * headDim, BLOCK], the
 * layout {@link io.convllava.llm.kernel.CausalAttention} scores consecutive keys in.
 * A block's positions past {@link #length()} hold whatever an earlier session left there. Not thread-safe: the shard
 * serialises access.
 */
final class KvBlocks {
    static final int BLOCK = 64;

    private final float[][][] keys;   // [layer][block] -> [kvHeads * headDim, BLOCK]
    private final float[][][] values; // [layer][block] -> [BLOCK, kvHeads * headDim]
    private final int rowWidth;
    private final KvBlockPool pool;
    private int blocks;
    private volatile int length; // read without the shard lock by sessionLength

    /** @param pool where blocks come from and go back to; its blocks are {@value #BLOCK} x rowWidth floats */
    KvBlocks(int layers, int rowWidth, int maxPositions, KvBlockPool pool) {
        int maxBlocks = (maxPositions + BLOCK - 1) / BLOCK;
        this.keys = new float[layers][maxBlocks][];
        this.values = new float[layers][maxBlocks][];
        this.rowWidth = rowWidth;
        this.pool = pool;
    }

    /** Positions already cached: the position of the next new token. */
    int length() {
        return length;
    }

    /** Makes room for positions up to {@code upTo} (exclusive) in every layer. */
    void reserve(int upTo) {
        int needed = (upTo + BLOCK - 1) / BLOCK;
        for (; blocks < needed; blocks++) {
            for (int layer = 0; layer < keys.length; layer++) {
                keys[layer][blocks] = pool.take();
                values[layer][blocks] = pool.take();
            }
        }
    }

    /** The key blocks of {@code layer}, each [rowWidth, BLOCK]: entries past the reserved blocks are null. */
    float[][] keys(int layer) {
        return keys[layer];
    }

    /** The value blocks of {@code layer}, each [BLOCK, rowWidth]: entries past the reserved blocks are null. */
    float[][] values(int layer) {
        return values[layer];
    }

    /** Stores row {@code row} of k and v ([rows, rowWidth]) as {@code position} of {@code layer}. */
    void write(int layer, int position, float[] k, float[] v, int row) {
        float[] keyBlock = keys[layer][position / BLOCK];
        int j = position % BLOCK;
        int from = row * rowWidth;
        for (int c = 0; c < rowWidth; c++) {
            keyBlock[c * BLOCK + j] = k[from + c];
        }
        System.arraycopy(v, from, values[layer][position / BLOCK], j * rowWidth, rowWidth);
    }

    /** Marks {@code count} more positions as filled, after every layer has written them. */
    void advance(int count) {
        length += count;
    }

    /**
     * Forgets positions from {@code keep} on, giving the blocks past it back to the pool. The block the next position
     * goes into becomes this cache's own if another cache shares it: positions are written only from
     * {@link #length()} on, so a cache never writes the full blocks it shares.
     */
    void truncate(int keep) {
        int needed = (keep + BLOCK - 1) / BLOCK;
        for (; blocks > needed; blocks--) {
            for (int layer = 0; layer < keys.length; layer++) {
                pool.give(keys[layer][blocks - 1]);
                pool.give(values[layer][blocks - 1]);
                keys[layer][blocks - 1] = null;
                values[layer][blocks - 1] = null;
            }
        }
        if (keep % BLOCK != 0) {
            int last = keep / BLOCK;
            for (int layer = 0; layer < keys.length; layer++) {
                keys[layer][last] = owned(keys[layer][last]);
                values[layer][last] = owned(values[layer][last]);
            }
        }
        length = keep;
    }

    /** {@code block}, or a copy of it from the pool when another cache shares it (which then keeps it alone). */
    private float[] owned(float[] block) {
        if (!pool.isShared(block)) {
            return block;
        }
        float[] own = pool.take();
        System.arraycopy(block, 0, own, 0, block.length);
        pool.give(block);
        return own;
    }

    /**
     * A new cache holding this one's first {@code keep} positions (at most {@link #length()}): a session that
     * continues from a kept cache while the cache stays kept for others. The blocks whose positions all lie before
     * {@code keep} are shared, not copied (neither cache writes them again: {@link #truncate}); a last, partly used
     * one is copied into a block of the new cache's own, which writes its next positions there.
     */
    KvBlocks copy(int keep) {
        if (keep < 0 || keep > length) {
            throw new IllegalArgumentException("cannot copy " + keep + " of " + length + " cached positions");
        }
        KvBlocks copy = new KvBlocks(keys.length, rowWidth, keys[0].length * BLOCK, pool);
        int full = keep / BLOCK;
        copy.blocks = full; // the shared ones, set below: reserve takes blocks from the pool past them only
        copy.reserve(keep);
        for (int layer = 0; layer < keys.length; layer++) {
            for (int b = 0; b < full; b++) {
                pool.share(keys[layer][b]);
                pool.share(values[layer][b]);
                copy.keys[layer][b] = keys[layer][b];
                copy.values[layer][b] = values[layer][b];
            }
            for (int b = full; b < copy.blocks; b++) {
                System.arraycopy(keys[layer][b], 0, copy.keys[layer][b], 0, keys[layer][b].length);
                System.arraycopy(values[layer][b], 0, copy.values[layer][b], 0, values[layer][b].length);
            }
        }
        copy.length = keep;
        return copy;
    }

    /** Bytes held: whole blocks of keys and values over every layer. */
    long bytes() {
        return 2L * keys.length * blocks * BLOCK * rowWidth * Float.BYTES;
    }
}
