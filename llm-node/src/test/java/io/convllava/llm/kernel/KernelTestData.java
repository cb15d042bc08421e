package io.convllava.llm.kernel;

import org.junit.jupiter.params.provider.Arguments;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** Random operands and the double-precision check shared by the matrix-product kernels' tests. */
final class KernelTestData {
    private KernelTestData() {
    }

    /** Every 16-bit type x shape {rows, cols} x batch, with heap, direct and packed weights ({@link #randomMatrix}). */
    static Stream<Arguments> cases(int[][] shapes, int[] batches) {
        Stream.Builder<Arguments> all = Stream.builder();
        for (HalfType type : HalfType.values()) {
            for (int[] shape : shapes) {
                for (int batch : batches) {
                    all.add(Arguments.of(type, shape[0], shape[1], batch, "heap"));
                    all.add(Arguments.of(type, shape[0], shape[1], batch, "direct"));
                    all.add(Arguments.of(type, shape[0], shape[1], batch, "packed"));
                }
            }
        }
        return all.build();
    }

    /**
     * A random [rows, cols] matrix in a heap or a direct buffer, or "packed" ({@link HalfMatrix#packed}: panels for bf16
     * with a multiple of four columns, else a row-major heap copy).
     */
    static HalfMatrix randomMatrix(HalfType type, int rows, int cols, String memory, SplittableRandom random) {
        ByteBuffer bytes = (memory.equals("direct") ? ByteBuffer.allocateDirect(2 * rows * cols)
                : ByteBuffer.allocate(2 * rows * cols)).order(ByteOrder.LITTLE_ENDIAN);
        fill(bytes, type, random);
        HalfMatrix w = HalfMatrix.wrap(bytes, type, rows, cols);
        return memory.equals("packed") ? HalfMatrix.packed(w) : w;
    }

    /** Finite values of both signs over a few binades, subnormals included for fp16. */
    static void fill(ByteBuffer bytes, HalfType type, SplittableRandom random) {
        for (int i = 0; i + 1 < bytes.limit(); i += 2) {
            int sign = random.nextInt(2) << 15;
            short bits = type == HalfType.BF16
                    ? (short) (sign | (random.nextInt(120, 131) << 7) | random.nextInt(1 << 7))
                    : (short) (sign | (random.nextInt(0, 18) << 10) | random.nextInt(1 << 10));
            bytes.putShort(i, bits);
        }
    }

    static float[] randomInputs(int n, SplittableRandom random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextDouble(-2, 2);
        }
        return x;
    }

    /** |y - reference| <= 1e-5 * sum_c |x[b, c] * w[r, c]|: float32 rounding of a sum, whatever its order. */
    static void assertCloseToReference(HalfMatrix w, float[] x, int batch, float[] y) {
        int rows = w.rows();
        int cols = w.cols();
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                double magnitude = 0;
                for (int c = 0; c < cols; c++) {
                    double term = (double) x[b * cols + c] * w.get(r, c);
                    sum += term;
                    magnitude += Math.abs(term);
                }
                double error = Math.abs(y[b * rows + r] - sum);
                if (error > 1e-5 * magnitude + 1e-30) {
                    throw new AssertionError("y[" + b + ", " + r + "] = " + y[b * rows + r] + ", reference " + sum
                            + " (sum of |terms| " + magnitude + ")");
                }
            }
        }
    }
}
