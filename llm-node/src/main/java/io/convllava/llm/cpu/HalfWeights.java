package io.convllava.llm.cpu;

import io.convllava.common.checkpoint.CheckpointException;
import io.convllava.common.checkpoint.DType;
import io.convllava.common.checkpoint.TensorInfo;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.llm.kernel.HalfMatrix;
import io.convllava.llm.kernel.HalfType;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Reads a shard's weights for the CPU decoder: matrices stay in the checkpoint's 16-bit type. Those the products read
 * are copied once from the file's memory map into the Java heap (the kernels read heap arrays about twice as fast as
 * mapped memory on JDK 17, and heap pages are not dropped and re-read when the machine runs short of page cache); the
 * token embedding stays in the map ({@link #table}). Vectors (norm weights) are widened to float32. Each tensor is
 * read once, straight into its resident form.
 */
final class HalfWeights {
    private final TensorSource source;

    HalfWeights(TensorSource source) {
        this.source = source;
    }

    boolean contains(String name) {
        return source.contains(name);
    }

    /** Whether {@code name} is stored in a 16-bit float type the kernels take. */
    boolean isHalf(String name) {
        DType t = source.info(name).dtype();
        return t == DType.BF16 || t == DType.F16;
    }

    /** A stored [rows, cols] Linear weight ([out, in]), left in its 16-bit type and packed for the kernels. */
    HalfMatrix matrix(String name, int rows, int cols) {
        return stacked(new String[] {name}, new int[] {rows}, cols);
    }

    /**
     * A stored [rows, cols] table read by rows (the token embedding), left in its 16-bit type, row-major, where it is:
     * in the checkpoint's memory map. A step reads one row per token, so only the pages of the rows that prompts use
     * become resident (a TinyLlama-shaped node's table is 131 MB, 12% of its weights), and the speed of a row copy
     * per token does not matter.
     */
    HalfMatrix table(String name, int rows, int cols) {
        return stored(name, rows, cols);
    }

    /**
     * Linear weights [rows_i, cols] that read the same input, stacked into one [sum(rows_i), cols] matrix (q/k/v,
     * gate/up), so one product computes all of them; they must share a 16-bit type. Read once from the checkpoint's
     * map into the kernels' layout ({@link HalfMatrix#packed}).
     */
    HalfMatrix stacked(String[] names, int[] rows, int cols) {
        HalfMatrix[] parts = new HalfMatrix[names.length];
        for (int i = 0; i < names.length; i++) {
            parts[i] = stored(names[i], rows[i], cols);
            if (parts[i].type() != parts[0].type()) {
                TensorInfo info = source.info(names[i]);
                throw new CheckpointException("tensor '" + names[i] + "' in " + info.file() + " is " + info.dtype()
                        + " but '" + names[0] + "' is " + parts[0].type() + "; they are multiplied together");
            }
        }
        return HalfMatrix.packed(parts);
    }

    /** The stored bytes of a [rows, cols] 16-bit tensor, viewed in place (the checkpoint's memory map). */
    private HalfMatrix stored(String name, int rows, int cols) {
        TensorInfo info = checkShape(name, rows, cols);
        return HalfMatrix.wrap(source.readRaw(name), halfType(info), rows, cols);
    }

    private static HalfType halfType(TensorInfo info) {
        return switch (info.dtype()) {
            case BF16 -> HalfType.BF16;
            case F16 -> HalfType.FP16;
            default -> throw new CheckpointException("tensor '" + info.name() + "' in " + info.file() + " is "
                    + info.dtype() + "; the CPU decoder keeps bf16 or fp16 weights");
        };
    }

    /** A 1-D tensor such as a norm weight, widened to float32. */
    float[] vector(String name, int size) {
        FloatBuffer values = source.readFloat(name, size);
        float[] out = new float[size];
        values.get(out);
        return out;
    }

    private TensorInfo checkShape(String name, long... shape) {
        TensorInfo info = source.info(name);
        if (!Arrays.equals(info.shape(), shape)) {
            throw new CheckpointException("tensor '" + name + "' in " + info.file() + " has shape "
                    + Arrays.toString(info.shape()) + ", expected " + Arrays.toString(shape));
        }
        return info;
    }
}
