package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.KernelTestData.fill;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link HalfMatrix#packed}: the same elements in the kernels' layout, stacked, widened back row by row. */
class HalfMatrixTest {
    private static HalfMatrix random(HalfType type, int rows, int cols, long seed) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(2 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
        fill(bytes, type, new SplittableRandom(seed));
        return HalfMatrix.wrap(bytes, type, rows, cols);
    }

    @Test
    void stackedPanelsHoldEveryElementOfTheirParts() {
        HalfMatrix q = random(HalfType.BF16, 37, 68, 1);
        HalfMatrix kv = random(HalfType.BF16, 5, 68, 2);
        HalfMatrix packed = HalfMatrix.packed(q, kv);
        assertTrue(packed.panels());
        assertEquals(42, packed.rows());
        assertEquals(68, packed.cols());
        assertEquals(2L * 42 * 68, packed.byteSize(), "the bytes a product streams, padding not counted");
        for (int r = 0; r < 42; r++) {
            for (int c = 0; c < 68; c++) {
                float expected = r < 37 ? q.get(r, c) : kv.get(r - 37, c);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(packed.get(r, c)),
                        "[" + r + ", " + c + "]");
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> packed.get(42, 0));
    }

    @Test
    void widensRowRangesAcrossPanelsLikeTheRowMajorMatrix() {
        HalfMatrix rowMajor = random(HalfType.BF16, 75, 36, 3);
        HalfMatrix packed = HalfMatrix.packed(rowMajor);
        for (int[] range : new int[][] {{0, 75}, {3, 20}, {PanelRows.ROWS - 1, 2}, {70, 5}}) {
            FloatBuffer expected = FloatBuffer.allocate(range[1] * 36);
            FloatBuffer actual = FloatBuffer.allocate(range[1] * 36);
            HalfToFloat.rows(rowMajor, range[0], range[1], expected);
            HalfToFloat.rows(packed, range[0], range[1], actual);
            assertArrayEquals(expected.array(), actual.array(), "rows " + range[0] + " + " + range[1]);
        }
    }

    @Test
    void fp16AndWidthsNotAMultipleOfFourStayRowMajor() {
        HalfMatrix fp16 = HalfMatrix.packed(random(HalfType.FP16, 9, 8, 4));
        HalfMatrix odd = HalfMatrix.packed(random(HalfType.BF16, 9, 7, 5));
        HalfMatrix even = HalfMatrix.packed(random(HalfType.BF16, 9, 10, 5));
        assertFalse(fp16.panels());
        assertFalse(odd.panels());
        assertFalse(even.panels(), "10 columns: not a multiple of four");
        assertEquals(random(HalfType.BF16, 9, 7, 5).get(8, 6), odd.get(8, 6));
        assertThrows(IllegalArgumentException.class,
                () -> HalfMatrix.packed(random(HalfType.BF16, 2, 8, 6), random(HalfType.FP16, 2, 8, 7)));
    }
}
