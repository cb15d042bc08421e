package io.convllava.llm.cpu;

/**
 * One session's keys and values for the layers of one shard, float32, in blocks of {@value #BLOCK} positions that
 * are allocated as the context grows (never copied), so memory follows the context and is counted in bytes. A row is
 * one position's [kvHeads * headDim] values. Not thread-safe: the shard serialises access.
 */
final class KvBlocks {
    static final int BLOCK = 64;

    private final float[][][] keys;   // [layer][block] -> [BLOCK, kvHeads * headDim]
    private final float[][][] values; // [layer][block] -> [BLOCK, kvHeads * headDim]
    private final int rowWidth;
    private int blocks;
    private volatile int length; // read without the shard lock by sessionLength

    KvBlocks(int layers, int rowWidth, int maxPositions) {
        int maxBlocks = (maxPositions + BLOCK - 1) / BLOCK;
        this.keys = new float[layers][maxBlocks][];
        this.values = new float[layers][maxBlocks][];
        this.rowWidth = rowWidth;
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
                keys[layer][blocks] = new float[BLOCK * rowWidth];
                values[layer][blocks] = new float[BLOCK * rowWidth];
            }
        }
    }

    /** The block holding {@code position}'s keys of {@code layer}; the row starts at {@link #offset}. */
    float[] keys(int layer, int position) {
        return keys[layer][position / BLOCK];
    }

    float[] values(int layer, int position) {
        return values[layer][position / BLOCK];
    }

    int offset(int position) {
        return (position % BLOCK) * rowWidth;
    }

    /** Stores row {@code row} of k and v ([rows, rowWidth]) as {@code position} of {@code layer}. */
    void write(int layer, int position, float[] k, float[] v, int row) {
        System.arraycopy(k, row * rowWidth, keys(layer, position), offset(position), rowWidth);
        System.arraycopy(v, row * rowWidth, values(layer, position), offset(position), rowWidth);
    }

    /** Marks {@code count} more positions as filled, after every layer has written them. */
    void advance(int count) {
        length += count;
    }

    /** Forgets positions from {@code keep} on, freeing the blocks past it. */
    void truncate(int keep) {
        int needed = (keep + BLOCK - 1) / BLOCK;
        for (; blocks > needed; blocks--) {
            for (int layer = 0; layer < keys.length; layer++) {
                keys[layer][blocks - 1] = null;
                values[layer][blocks - 1] = null;
            }
        }
        length = keep;
    }

    /** Bytes held: whole blocks of keys and values over every layer. */
    long bytes() {
        return 2L * keys.length * blocks * BLOCK * rowWidth * Float.BYTES;
    }
}
