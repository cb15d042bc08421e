package io.convllava.llm.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A read-only [rows, cols] matrix of 16-bit floats (bf16 or fp16), row-major and little-endian, as safetensors stores
 * a Linear weight ([out, in]). The bytes stay where they are: a slice of a memory-mapped checkpoint, a direct buffer
 * or a heap buffer; nothing is widened or copied.
 *
 * <p>Where the bytes live matters on JDK 17: {@link HalfMatMul} reads a heap buffer's array about twice as fast per
 * core as a direct or mapped buffer (C2 keeps a ByteBuffer load's checks inside the loop), and a mapping's page cache
 * can be reclaimed and re-read from disk, which heap memory on a host without swap is not (docs/benchmarks.md). Weights
 * that must be copied anyway (fused or converted matrices) are best copied into {@link ByteBuffer#allocate heap
 * buffers}.
 *
 * <p>A matrix the decoder only multiplies by is best {@link #packed}: bf16 rows regrouped into panels of
 * {@link PanelRows#ROWS} rows, column pair by column pair ({@link PanelRows}), the layout of the kernels whose every
 * output is one chain of FMAs. Its bytes are then no longer row-major: read it through {@link #get}, the kernels and
 * {@link HalfToFloat}.
 */
public final class HalfMatrix {
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final ByteBuffer data;  // row-major [rows, cols] x 2 bytes, or panels; position 0, little-endian, read-only
    private final byte[] heap;      // the same bytes when they are a heap array's, else null
    private final int heapOffset;   // index of element [0, 0] in heap
    private final HalfType type;
    private final int rows;
    private final int cols;
    private final boolean panels;   // data is [ceil(rows / 2 ROWS) * 2 panels][cols / 2 pairs][ROWS] x 4 bytes

    private HalfMatrix(ByteBuffer data, byte[] heap, int heapOffset, HalfType type, int rows, int cols,
                       boolean panels) {
        this.data = data;
        this.heap = heap;
        this.heapOffset = heapOffset;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.panels = panels;
    }

    /**
     * Views rows * cols * 2 bytes of {@code data} from its position (the buffer's position, limit and order are left
     * alone). The matrix must fit one buffer: under 2 GiB. A writable heap buffer is read through its array (the fast
     * path); a read-only heap buffer hides its array and is read like a direct one.
     */
    public static HalfMatrix wrap(ByteBuffer data, HalfType type, int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix shape must be positive: [" + rows + ", " + cols + "]");
        }
        long bytes = 2L * rows * cols;
        if (bytes > data.remaining()) {
            throw new IllegalArgumentException("[" + rows + ", " + cols + "] " + type + " needs " + bytes
                    + " bytes, the buffer has " + data.remaining());
        }
        ByteBuffer view = data.slice().limit((int) bytes).slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return data.hasArray()
                ? new HalfMatrix(view, data.array(), data.arrayOffset() + data.position(), type, rows, cols, false)
                : new HalfMatrix(view, null, 0, type, rows, cols, false);
    }

    /**
     * The row-major matrices {@code parts} ([rows_i, cols] each, one type), stacked into one [sum(rows_i), cols] matrix
     * in the Java heap, read once: bf16 with a multiple of four columns into panels (rows past the last padded with
     * zeros to a whole pair of panels), anything else row-major as it is.
     */
    public static HalfMatrix packed(HalfMatrix... parts) {
        HalfType type = parts[0].type;
        int cols = parts[0].cols;
        long total = 0;
        for (HalfMatrix part : parts) {
            if (part.type != type || part.cols != cols || part.panels) {
                throw new IllegalArgumentException("stacked matrices must be row-major, of one type and as wide: "
                        + part.type + " [" + part.rows + ", " + part.cols + "] after " + type + " [.., " + cols + "]");
            }
            total += part.rows;
        }
        int rows = Math.toIntExact(total);
        if (type != HalfType.BF16 || cols % 4 != 0) {
            return onHeap(parts);
        }
        int block = 2 * PanelRows.ROWS;
        byte[] out = new byte[Math.toIntExact((rows + block - 1L) / block * block * cols * 2)];
        ByteBuffer view = ByteBuffer.wrap(out).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        HalfMatrix packed = new HalfMatrix(view, out, 0, type, rows, cols, true);
        int row = 0;
        for (HalfMatrix part : parts) {
            for (int r = 0; r < part.rows; r++, row++) {
                int to = packed.pairByte(row / PanelRows.ROWS, 0) + row % PanelRows.ROWS * 4;
                int from = 2 * r * cols;
                for (int j = 0; j < cols / 2; j++) {
                    INTS.set(out, to + j * PanelRows.PAIR_BYTES, part.data.getInt(from + 4 * j));
                }
            }
        }
        return packed;
    }

    /**
     * The row-major matrices {@code parts} ([rows_i, cols] each, one type), stacked into one row-major
     * [sum(rows_i), cols] matrix in a heap buffer: the kernels' fast path for a matrix that stays row-major.
     */
    private static HalfMatrix onHeap(HalfMatrix... parts) {
        long bytes = 0;
        for (HalfMatrix part : parts) {
            bytes += part.byteSize();
        }
        ByteBuffer copy = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (HalfMatrix part : parts) {
            copy.put(part.data.duplicate());
        }
        return wrap(copy.flip(), parts[0].type, Math.toIntExact(bytes / 2 / parts[0].cols), parts[0].cols);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public HalfType type() {
        return type;
    }

    /** The bytes the matrix occupies (what one product streams). */
    public long byteSize() {
        return 2L * rows * cols;
    }

    /** One element, widened to float32. */
    public float get(int row, int col) {
        if (row < 0 || row >= rows || col < 0 || col >= cols) {
            throw new IndexOutOfBoundsException("[" + row + ", " + col + "] outside [" + rows + ", " + cols + "]");
        }
        return type.toFloat(data.getShort(panels ? panelByte(row, col) : 2 * (row * cols + col)));
    }

    /** Whether the bytes are in panels ({@link #packed}) rather than row-major. */
    boolean panels() {
        return panels;
    }

    /** Bytes of one panel ({@link PanelRows#ROWS} rows) of a matrix in panels. */
    int panelBytes() {
        return cols / 2 * PanelRows.PAIR_BYTES;
    }

    /** Where column pair {@code pair} (columns 2 pair and 2 pair + 1) of panel {@code panel} starts, in panels. */
    int pairByte(int panel, int pair) {
        return panel * panelBytes() + pair * PanelRows.PAIR_BYTES;
    }

    /** Where element [row, col] of a matrix in panels starts. */
    private int panelByte(int row, int col) {
        return pairByte(row / PanelRows.ROWS, col / 2) + row % PanelRows.ROWS * 4 + col % 2 * 2;
    }

    /** The backing bytes: [rows, cols] x 2 or panels ({@link #panels()}), little-endian, read-only, position 0. */
    ByteBuffer data() {
        return data;
    }

    /** Whether the bytes were copied into the Java heap, rather than viewed where they are (mapped or direct). */
    public boolean inHeap() {
        return heap != null;
    }

    /** The heap array holding the bytes, or null when they are off-heap (direct or mapped). */
    byte[] heapArray() {
        return heap;
    }

    /** Where element [0, 0] starts in {@link #heapArray()}. */
    int heapOffset() {
        return heapOffset;
    }
}
