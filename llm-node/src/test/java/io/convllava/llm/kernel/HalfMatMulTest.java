package io.convllava.llm.kernel;

import static io.convllava.llm.kernel.KernelTestData.assertCloseToReference;
import static io.convllava.llm.kernel.KernelTestData.fill;
import static io.convllava.llm.kernel.KernelTestData.randomInputs;
import static io.convllava.llm.kernel.KernelTestData.randomMatrix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kernel against a double-precision reference on random data: shapes around the vector width, the chunk size and
 * the packed product's blocks, batches that do and do not fill a tile (the packed product is tested on its own in
 * {@link HalfGemmTest}), both 16-bit types, heap and off-heap
 * weights (two code paths), offset, read-only and mapped buffers, 1 to 3 threads.
 */
class HalfMatMulTest {
    private static HalfMatMul oneThread;
    private static HalfMatMul twoThreads;
    private static HalfMatMul threeThreads;

    @BeforeAll
    static void start() {
        oneThread = new HalfMatMul(1);
        twoThreads = new HalfMatMul(2);
        threeThreads = new HalfMatMul(3);
    }

    @AfterAll
    static void stop() {
        oneThread.close();
        twoThreads.close();
        threeThreads.close();
    }

    static Stream<Arguments> shapes() {
        int[][] shapes = {
            {1, 1}, {5, 7}, {3, 16}, {9, 32}, {2, 33}, {37, 131}, {17, 48}, {1000, 33}, {300, 2048}, {64, 4096}, {4, 5632},
            {19, 600},
        };
        int[] batches = {1, 2, 3, 4, 5, 64, 67};
        return KernelTestData.cases(shapes, batches);
    }

    @ParameterizedTest(name = "{0} [{1}x{2}] batch {3}, {4}")
    @MethodSource("shapes")
    void matchesTheDoubleReference(HalfType type, int rows, int cols, int batch, String memory) {
        SplittableRandom random = new SplittableRandom(31L * rows + cols + 1000L * batch);
        HalfMatrix w = randomMatrix(type, rows, cols, memory, random);
        float[] x = randomInputs(batch * cols, random);
        float[] y = new float[batch * rows];
        twoThreads.multiply(w, x, batch, y);
        assertCloseToReference(w, x, batch, y);
    }

    @Test
    void offsetMappedAndReadOnlyBuffersAndAnyThreadCount(@TempDir Path dir) throws IOException {
        int rows = 67;
        int cols = 515;
        SplittableRandom random = new SplittableRandom(7);
        // the matrix at an odd byte offset of a big-endian heap buffer: wrap() must read from the position, little-endian
        ByteBuffer heap = ByteBuffer.allocate(3 + 2 * rows * cols + 5);
        heap.position(3);
        fill(heap.slice().order(ByteOrder.LITTLE_ENDIAN), HalfType.BF16, random);
        HalfMatrix fromHeap = HalfMatrix.wrap(heap, HalfType.BF16, rows, cols);
        Path file = dir.resolve("w.bin");
        byte[] copy = new byte[2 * rows * cols];
        heap.duplicate().get(copy);
        Files.write(file, copy);
        HalfMatrix mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            mapped = HalfMatrix.wrap(channel.map(FileChannel.MapMode.READ_ONLY, 0, copy.length), HalfType.BF16,
                    rows, cols);
        }
        HalfMatrix readOnlyHeap = HalfMatrix.wrap(heap.asReadOnlyBuffer(), HalfType.BF16, rows, cols); // no array
        for (int batch : new int[] {1, 6}) {
            float[] x = randomInputs(batch * cols, random);
            for (HalfMatMul kernel : new HalfMatMul[] {oneThread, twoThreads, threeThreads}) {
                for (HalfMatrix w : new HalfMatrix[] {fromHeap, mapped, readOnlyHeap}) {
                    float[] y = new float[batch * rows];
                    kernel.multiply(w, x, batch, y);
                    assertCloseToReference(w, x, batch, y);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(HalfType.class)
    void compiledCodeGivesTheSameResults(HalfType type) {
        int rows = 41;
        int cols = 203; // odd: the row-major kernel's scalar tail; the packed matrix takes 200 of them
        int[] batches = {1, 3, 64, 6};
        SplittableRandom random = new SplittableRandom(11);
        ByteBuffer heap = ByteBuffer.allocate(2 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
        fill(heap, type, random);
        ByteBuffer direct = ByteBuffer.allocateDirect(heap.capacity()).put(heap.duplicate()).flip();
        for (HalfMatrix w : new HalfMatrix[] {HalfMatrix.wrap(heap, type, rows, cols),
                HalfMatrix.wrap(direct, type, rows, cols), HalfMatrix.packed(HalfMatrix.wrap(heap, type, rows, 200))}) {
            for (int batch : batches) {
                float[] x = randomInputs(batch * w.cols(), random);
                float[] first = new float[batch * rows];
                twoThreads.multiply(w, x, batch, first);
                assertCloseToReference(w, x, batch, first);
                float[] y = new float[batch * rows];
                for (int i = 0; i < 2000; i++) { // C2 compiles the inner loops after ~5,000 calls of them (11 per product)
                    twoThreads.multiply(w, x, batch, y);
                }
                assertArrayEquals(first, y, "the same sums in the same order, interpreted and compiled");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(HalfType.class)
    void eachInputGetsTheSameBitsAloneAndInABatch(HalfType type) {
        int rows = 300;
        int cols = 520; // a large matrix: the packed product would take a batch of 70, this must not
        SplittableRandom random = new SplittableRandom(5);
        ByteBuffer heap = ByteBuffer.allocate(2 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
        fill(heap, type, random);
        int batch = 70;
        float[] x = randomInputs(batch * cols, random);
        HalfMatrix rowMajor = HalfMatrix.wrap(heap, type, rows, cols);
        for (HalfMatrix w : new HalfMatrix[] {rowMajor, HalfMatrix.packed(rowMajor)}) {
            float[] batched = new float[batch * rows];
            twoThreads.multiply(w, x, batch, batched);
            for (int b : new int[] {0, 1, 33, 65, batch - 1}) { // in groups of four and left over
                float[] alone = new float[rows];
                twoThreads.multiply(w, Arrays.copyOfRange(x, b * cols, (b + 1) * cols), 1, alone);
                assertArrayEquals(alone, Arrays.copyOfRange(batched, b * rows, (b + 1) * rows), "input " + b);
                for (int n : new int[] {5, 6, 9, 12, 13}) { // the same input in smaller batches, at another place
                    float[] some = new float[n * rows];
                    float[] in = Arrays.copyOfRange(x, 0, n * cols);
                    System.arraycopy(x, b * cols, in, (n - 2) * cols, cols);
                    oneThread.multiply(w, in, n, some);
                    assertArrayEquals(alone, Arrays.copyOfRange(some, (n - 2) * rows, (n - 1) * rows),
                            "input " + b + " in a batch of " + n);
                }
            }
        }
    }

    @Test
    void leavesTheRestOfLongerArraysAlone() {
        HalfMatrix w = HalfMatrix.wrap(ByteBuffer.allocate(2 * 3 * 40), HalfType.BF16, 3, 40);
        float[] y = new float[2 * 3 + 4];
        Arrays.fill(y, 9f);
        oneThread.multiply(w, new float[2 * 40 + 7], 2, y);
        for (int i = 0; i < y.length; i++) {
            assertEquals(i < 6 ? 0f : 9f, y[i], "y[" + i + "]");
        }
    }

    @Test
    void rejectsBadArguments() {
        HalfMatrix w = HalfMatrix.wrap(ByteBuffer.allocate(2 * 4 * 8), HalfType.FP16, 4, 8);
        assertThrows(IllegalArgumentException.class, () -> oneThread.multiply(w, new float[8], 0, new float[4]));
        assertThrows(IllegalArgumentException.class, () -> oneThread.multiply(w, new float[15], 2, new float[8]));
        assertThrows(IllegalArgumentException.class, () -> oneThread.multiply(w, new float[16], 2, new float[7]));
        assertThrows(IllegalArgumentException.class, () -> HalfMatrix.wrap(ByteBuffer.allocate(63), HalfType.BF16, 4, 8));
        assertThrows(IndexOutOfBoundsException.class, () -> w.get(4, 0));
    }

}
