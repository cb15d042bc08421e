package io.convllava.common.checkpoint;

import java.util.Arrays;

/** Checked arithmetic on the shapes and sizes a checkpoint file declares: a crafted file must not overflow them. */
final class TensorShapes {
    /** Dimensions of one tensor: PyTorch allows at most 64; model weights have at most 5. */
    static final int MAX_RANK = 64;

    private TensorShapes() {
    }

    /** The number of elements of {@code shape}; {@code where} ("tensor 'x' in file") names the tensor on error. */
    static long numel(long[] shape, String where) {
        if (shape.length > MAX_RANK) {
            throw new CheckpointException(where + " has " + shape.length + " dimensions, more than the limit of "
                    + MAX_RANK);
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new CheckpointException(where + " has a negative dimension in shape " + Arrays.toString(shape));
            }
            if (d == 0) {
                return 0; // empty, however large the other dimensions
            }
        }
        try {
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + " has shape " + Arrays.toString(shape)
                    + ", whose element count overflows 64 bits", e);
        }
        return n;
    }

    /** {@code numel} elements of {@code dtype} in bytes, refusing counts whose byte size overflows 64 bits. */
    static long bytes(long numel, DType dtype, String where) {
        try {
            return Math.multiplyExact(numel, (long) dtype.bytes());
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + " has " + numel + " " + dtype + " elements, whose byte size overflows"
                    + " 64 bits", e);
        }
    }
}
