package io.convllava.llm.kernel;

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
 */
public final class HalfMatrix {
    private final ByteBuffer data;  // [rows, cols] x 2 bytes, position 0, little-endian, read-only
    private final byte[] heap;      // the same bytes when they are a heap array's, else null
    private final int heapOffset;   // index of element [0, 0] in heap
    private final HalfType type;
    private final int rows;
    private final int cols;

    private HalfMatrix(ByteBuffer data, byte[] heap, int heapOffset, HalfType type, int rows, int cols) {
        this.data = data;
        this.heap = heap;
        this.heapOffset = heapOffset;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
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
                ? new HalfMatrix(view, data.array(), data.arrayOffset() + data.position(), type, rows, cols)
                : new HalfMatrix(view, null, 0, type, rows, cols);
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
        return type.toFloat(data.getShort(2 * (row * cols + col)));
    }

    /** The backing bytes: [rows, cols] x 2, little-endian, read-only, position 0. */
    ByteBuffer data() {
        return data;
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
