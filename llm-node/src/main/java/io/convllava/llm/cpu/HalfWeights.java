package io.convllava.llm.cpu;

import io.convllava.common.checkpoint.CheckpointException;
import io.convllava.common.checkpoint.DType;
import io.convllava.common.checkpoint.TensorInfo;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.llm.kernel.HalfMatrix;
import io.convllava.llm.kernel.HalfType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Reads a shard's weights for the CPU decoder: matrices stay in the checkpoint's 16-bit type, copied once from the
 * file's memory map into the Java heap (the kernels read heap arrays about twice as fast as mapped memory on JDK 17,
 * and heap pages are not dropped and re-read when the machine runs short of page cache); vectors (norm weights) are
 * widened to float32. Each tensor is read once, straight into its resident form.
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

    /** A stored [rows, cols] Linear weight ([out, in]), left in its 16-bit type. */
    HalfMatrix matrix(String name, int rows, int cols) {
        return stacked(new String[] {name}, new int[] {rows}, cols);
    }

    /**
     * Linear weights [rows_i, cols] that read the same input, stacked into one [sum(rows_i), cols] matrix (q/k/v,
     * gate/up), so one product computes all of them; they must share a 16-bit type.
     */
    HalfMatrix stacked(String[] names, int[] rows, int cols) {
        HalfType type = null;
        long bytes = 0;
        for (int i = 0; i < names.length; i++) {
            TensorInfo info = checkShape(names[i], rows[i], cols);
            HalfType t = halfType(info);
            if (type != null && t != type) {
                throw new CheckpointException("tensor '" + names[i] + "' in " + info.file() + " is " + info.dtype()
                        + " but '" + names[0] + "' is " + type + "; they are multiplied together");
            }
            type = t;
            bytes += info.numel() * 2;
        }
        ByteBuffer resident = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        int total = 0;
        for (int i = 0; i < names.length; i++) {
            resident.put(source.readRaw(names[i]));
            total += rows[i];
        }
        return HalfMatrix.wrap(resident.flip(), type, total, cols);
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
