package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.KernelTestData.assertCloseToReference;
import static io.convllava.llm.kernel.KernelTestData.randomMatrix;
import static io.convllava.llm.kernel.KernelTestData.randomInputs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The packed product directly (HalfMatMul sends it only large matrices) against a double-precision reference: features
 * that do not fill a panel or a task, depths that end in a partial block, row counts that do not fill a tile or a row
 * block, both 16-bit types, heap and off-heap weights.
 */
class HalfGemmTest {
    private static ChunkPool pool;

    @BeforeAll
    static void start() {
        pool = new ChunkPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    static Stream<Arguments> shapes() {
        int[][] shapes = {{1, 1}, {17, 33}, {37, 600}, {300, 257}, {2 * HalfGemm.NR * HalfGemm.PANELS_PER_TASK + 3, 64}};
        int[] batches = {1, 3, 5, HalfGemm.MR, 2 * HalfGemm.MR + 1, HalfGemm.MC + 2};
        return KernelTestData.cases(shapes, batches);
    }

    @ParameterizedTest(name = "{0} [{1}x{2}] batch {3}, {4}")
    @MethodSource("shapes")
    void matchesTheDoubleReference(HalfType type, int rows, int cols, int batch, String memory) {
        SplittableRandom random = new SplittableRandom(31L * rows + cols + 1000L * batch);
        HalfMatrix w = randomMatrix(type, rows, cols, memory, random);
        float[] x = randomInputs(batch * cols, random);
        float[] y = new float[batch * rows];
        new HalfGemm().multiply(pool, w, x, batch, y);
        assertCloseToReference(w, x, batch, y);
    }

    @Test
    void aSmallerProductAfterALargerOneIgnoresTheLeftoverPackedInput() {
        SplittableRandom random = new SplittableRandom(5);
        HalfGemm gemm = new HalfGemm();
        HalfMatrix big = randomMatrix(HalfType.BF16, 40, 700, "heap", random);
        gemm.multiply(pool, big, randomInputs(70 * 700, random), 70, new float[70 * 40]);
        HalfMatrix small = randomMatrix(HalfType.BF16, 21, 300, "heap", random);
        float[] x = randomInputs(6 * 300, random);
        float[] y = new float[6 * 21];
        gemm.multiply(pool, small, x, 6, y);
        assertCloseToReference(small, x, 6, y);
        float[] again = new float[6 * 21];
        new HalfGemm().multiply(pool, small, x, 6, again);
        assertArrayEquals(y, again, "the same sums in the same order whatever ran before");
    }
}
