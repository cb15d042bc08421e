package io.convllava.llm.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** A cache that continues from another shares its full blocks, never writes them, and frees them with the last. */
class KvBlocksTest {
    private static final int LAYERS = 2;
    private static final int WIDTH = 3; // kvHeads x headDim
    private static final int BLOCK = KvBlocks.BLOCK;
    private static final long BLOCK_BYTES = (long) BLOCK * WIDTH * Float.BYTES;

    @Test
    void aContinuationSharesTheFullBlocksAndCopiesThePartOfOneItWrites() {
        KvBlockPool pool = new KvBlockPool(BLOCK * WIDTH);
        KvBlocks kept = filled(pool, 2 * BLOCK + 10, 1f);
        KvBlocks next = kept.copy(BLOCK + 5);
        for (int layer = 0; layer < LAYERS; layer++) {
            assertSame(kept.keys(layer)[0], next.keys(layer)[0], "a full block before the continuation is shared");
            assertSame(kept.values(layer)[0], next.values(layer)[0]);
            assertNotSame(kept.keys(layer)[1], next.keys(layer)[1], "the block it writes next is its own");
        }
        write(next, BLOCK + 5, BLOCK, 7f); // positions 69..132: the rest of block 1 and into block 2
        assertEquals(2 * BLOCK + 10, kept.length());
        for (int position = 0; position < kept.length(); position++) {
            assertPosition(kept, position, 1f);
        }
        for (int position = 0; position < BLOCK + 5; position++) {
            assertPosition(next, position, 1f);
        }
        assertPosition(next, BLOCK + 5, 7f);
    }

    @Test
    void aContinuationCutBackIntoASharedBlockWritesACopyOfIt() {
        KvBlockPool pool = new KvBlockPool(BLOCK * WIDTH);
        KvBlocks kept = filled(pool, 2 * BLOCK, 1f);
        KvBlocks next = kept.copy(2 * BLOCK);
        next.truncate(BLOCK + 3);
        assertNotSame(kept.keys(0)[1], next.keys(0)[1], "block 1 is written again from position 67");
        assertSame(kept.keys(0)[0], next.keys(0)[0]);
        write(next, BLOCK + 3, 10, 5f);
        for (int position = 0; position < kept.length(); position++) {
            assertPosition(kept, position, 1f);
        }
    }

    @Test
    void aSharedBlockIsFreeOnlyOnceEveryCacheHoldingItHasLetGo() {
        KvBlockPool pool = new KvBlockPool(BLOCK * WIDTH);
        KvBlocks kept = filled(pool, 2 * BLOCK + 10, 1f); // blocks 0, 1 full, 2 partly used
        KvBlocks next = kept.copy(2 * BLOCK + 10); // shares 0 and 1, copies 2
        assertEquals(0, pool.bytes());
        kept.truncate(0);
        assertEquals(2L * LAYERS * BLOCK_BYTES, pool.bytes(), "only the kept cache's own block 2 is free");
        next.truncate(0);
        assertEquals(8L * LAYERS * BLOCK_BYTES, pool.bytes(),
                "every block is free: the kept cache's three and the continuation's copy of block 2, keys and values");
    }

    private static KvBlocks filled(KvBlockPool pool, int positions, float value) {
        KvBlocks cache = new KvBlocks(LAYERS, WIDTH, 8 * BLOCK, pool);
        write(cache, 0, positions, value);
        return cache;
    }

    /** Writes positions [from, from + count), every value {@code value + position}. */
    private static void write(KvBlocks cache, int from, int count, float value) {
        cache.reserve(from + count);
        for (int position = from; position < from + count; position++) {
            float[] row = new float[WIDTH];
            java.util.Arrays.fill(row, value + position);
            for (int layer = 0; layer < LAYERS; layer++) {
                cache.write(layer, position, row, row, 0);
            }
        }
        cache.advance(count);
    }

    private static void assertPosition(KvBlocks cache, int position, float value) {
        for (int layer = 0; layer < LAYERS; layer++) {
            float[] keys = cache.keys(layer)[position / BLOCK];
            float[] values = cache.values(layer)[position / BLOCK];
            for (int c = 0; c < WIDTH; c++) {
                assertEquals(value + position, keys[c * BLOCK + position % BLOCK], "key " + position);
                assertEquals(value + position, values[position % BLOCK * WIDTH + c], "value " + position);
            }
        }
    }
}
