package io.convllava.llm.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CausalAttention} against softmax attention computed in double precision, key by key, and a row's bits
 * whichever way it runs. Key blocks are column-major [kvHeads * d, BLOCK], value blocks position-major.
 */
class CausalAttentionTest {
    private static final int BLOCK = 64;

    @ParameterizedTest(name = "heads {0}/{1}, d {2}, rows [{3}, {3} + {4})")
    @CsvSource({
            "32, 4, 64, 0, 512",   // TinyLlama's grouping, a whole prompt chunk
            "32, 4, 64, 512, 100", // a later chunk: every earlier block, then a partial one
            "4, 4, 16, 0, 37",     // no grouping, a head smaller than the vectors' tiles, odd rows
            "6, 2, 20, 70, 17",    // an odd group (3 heads: a lone query per row pairs with a dummy), d % 8 != 0
            "8, 1, 64, 63, 2",     // two rows across a block boundary
            "2, 1, 8, 0, 1"})      // one row, one key
    void matchesTheTwoPassSoftmaxInDouble(int heads, int kvHeads, int d, int first, int n) {
        SplittableRandom random = new SplittableRandom(heads * 31L + d * 7L + first + n);
        int rowWidth = kvHeads * d;
        int positions = first + n;
        int blocks = (positions + BLOCK - 1) / BLOCK;
        float[][] keys = randomBlocks(random, blocks, rowWidth, 2);
        float[][] values = randomBlocks(random, blocks, rowWidth, 1);
        float[] q = random(random, n * heads * d, 2);
        float[] out = new float[q.length];
        new CausalAttention(heads, kvHeads, d, BLOCK).run(q, out, 0, first, n, keys, values);

        int group = heads / kvHeads;
        double worst = 0;
        for (int r = 0; r < n; r++) {
            for (int h = 0; h < heads; h++) {
                int qo = (r * heads + h) * d;
                int kv = (h / group) * d;
                int context = first + r + 1;
                double[] scores = new double[context];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < context; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += (double) q[qo + c] * keys[j / BLOCK][(kv + c) * BLOCK + j % BLOCK];
                    }
                    scores[j] = dot / Math.sqrt(d);
                    max = Math.max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j < context; j++) {
                    scores[j] = Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                for (int c = 0; c < d; c++) {
                    double expected = 0;
                    for (int j = 0; j < context; j++) {
                        expected += scores[j] / sum * values[j / BLOCK][(j % BLOCK) * rowWidth + kv + c];
                    }
                    worst = Math.max(worst, Math.abs(expected - out[qo + c]));
                }
            }
        }
        assertTrue(worst < 2e-5, "max |difference| " + worst);
    }

    @Test
    void aRowGetsTheSameBitsWhateverChunkItIsIn() {
        int heads = 8;
        int kvHeads = 2;
        int d = 32;
        int first = 40;
        int n = 70;
        SplittableRandom random = new SplittableRandom(3);
        int rowWidth = kvHeads * d;
        float[][] keys = randomBlocks(random, 2, rowWidth, 2);
        float[][] values = randomBlocks(random, 2, rowWidth, 1);
        int width = heads * d;
        float[] q = random(random, (n + 5) * width, 2); // 5 rows of another session before this one's
        CausalAttention attention = new CausalAttention(heads, kvHeads, d, BLOCK);
        float[] whole = new float[q.length];
        attention.run(q, whole, 5, first, n, keys, values);
        float[] split = new float[q.length];
        attention.run(q, split, 5, first, 23, keys, values);
        attention.run(q, split, 5 + 23, first + 23, n - 23, keys, values);
        assertArrayEquals(whole, split);
        for (int i = 0; i < 5 * width; i++) {
            assertTrue(whole[i] == 0f, "rows before the offset are left alone");
        }
    }

    @ParameterizedTest(name = "heads {0}/{1}, d {2}")
    @CsvSource({
            "4, 4, 32",  // the demo model: one query per KV head (a decode row's query alone, a chunk's paired)
            "32, 4, 64", // TinyLlama's grouping
            "6, 2, 20",  // an odd group, d not a whole number of vectors
            "2, 1, 8"})
    void aDecodeRowGetsTheBitsOfTheSameRowInAChunk(int heads, int kvHeads, int d) {
        int first = 50;
        int n = 37; // rows at positions 50..86: across a block boundary
        SplittableRandom random = new SplittableRandom(heads + d);
        int rowWidth = kvHeads * d;
        float[][] keys = randomBlocks(random, 2, rowWidth, 2);
        float[][] values = randomBlocks(random, 2, rowWidth, 1);
        int width = heads * d;
        float[] q = random(random, n * width, 2);
        CausalAttention attention = new CausalAttention(heads, kvHeads, d, BLOCK);
        float[] chunk = new float[q.length];
        attention.run(q, chunk, 0, first, n, keys, values);
        // every row as a decode row of its own session, all in one call, in reverse order
        int[] rows = new int[n];
        int[] positions = new int[n];
        float[][][] rowKeys = new float[n][][];
        float[][][] rowValues = new float[n][][];
        for (int i = 0; i < n; i++) {
            rows[i] = n - 1 - i;
            positions[i] = first + n - 1 - i;
            rowKeys[i] = keys;
            rowValues[i] = values;
        }
        float[] single = new float[q.length];
        attention.runRows(q, single, n, rows, positions, rowKeys, rowValues);
        assertArrayEquals(chunk, single);
    }

    /** {@code blocks} cache blocks of BLOCK x rowWidth floats, uniform in [-scale, scale]. */
    private static float[][] randomBlocks(SplittableRandom random, int blocks, int rowWidth, double scale) {
        float[][] all = new float[blocks][];
        for (int b = 0; b < blocks; b++) {
            all[b] = random(random, BLOCK * rowWidth, scale);
        }
        return all;
    }

    private static float[] random(SplittableRandom random, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return x;
    }
}
