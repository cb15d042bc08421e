package io.convllava.llm.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/** Widening a {@link HalfMatrix} to float32 for libtorch's products (exact: every 16-bit value is a float32). */
public final class HalfToFloat {
    private static final int BLOCK = 4096;

    private HalfToFloat() {
    }

    /**
     * Rows [first, first + count) of {@code w} as float32 [count, cols] into {@code dst} from its position, which
     * advances.
     */
    public static void rows(HalfMatrix w, int first, int count, FloatBuffer dst) {
        if (w.panels()) {
            panelRows(w, first, count, dst);
            return;
        }
        ShortBuffer src = w.data().duplicate().order(ByteOrder.LITTLE_ENDIAN)
                .position(Math.multiplyExact(2 * first, w.cols())).slice().order(ByteOrder.LITTLE_ENDIAN)
                .asShortBuffer().limit(Math.multiplyExact(count, w.cols()));
        short[] half = new short[BLOCK];
        float[] full = new float[BLOCK];
        boolean bf16 = w.type() == HalfType.BF16;
        while (src.hasRemaining()) {
            int n = Math.min(BLOCK, src.remaining());
            src.get(half, 0, n);
            if (bf16) {
                for (int i = 0; i < n; i++) {
                    full[i] = Float.intBitsToFloat(half[i] << 16);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    full[i] = HalfType.FP16.toFloat(half[i]);
                }
            }
            dst.put(full, 0, n);
        }
    }

    /** {@link #rows} of a bf16 matrix in panels: each panel widened into a row-major scratch, its rows copied out. */
    private static void panelRows(HalfMatrix w, int first, int count, FloatBuffer dst) {
        int cols = w.cols();
        int pairs = cols / 2;
        int height = PanelRows.ROWS;
        ByteBuffer bytes = w.data();
        float[] panel = new float[height * cols];
        for (int p = first / height; p * height < first + count; p++) {
            for (int j = 0; j < pairs; j++) {
                int at = w.pairByte(p, j);
                for (int r = 0; r < height; r++) {
                    int pair = bytes.getInt(at + 4 * r);
                    panel[r * cols + 2 * j] = Float.intBitsToFloat(pair << 16);
                    panel[r * cols + 2 * j + 1] = Float.intBitsToFloat(pair & 0xFFFF0000);
                }
            }
            int from = Math.max(first, p * height);
            int to = Math.min(first + count, (p + 1) * height);
            dst.put(panel, (from - p * height) * cols, (to - from) * cols);
        }
    }
}
