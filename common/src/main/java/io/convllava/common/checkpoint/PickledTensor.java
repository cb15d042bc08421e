package io.convllava.common.checkpoint;

/**
 * A tensor as {@code torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...)} describes it: a view
 * of {@code shape} with element {@code stride}s starting {@code offset} elements into a storage.
 */
record PickledTensor(Storage storage, long offset, long[] shape, long[] stride) {

    /** A typed storage: its elements are the zip entry {@code <archive>/data/<key>}. */
    record Storage(DType dtype, String key, long numel) {
    }

    /** Throws {@link ArithmeticException} on overflow, which only an unchecked (crafted) tensor can cause. */
    long numel() {
        if (isEmpty()) {
            return 0;
        }
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Row-major with no gaps (dimensions of size 1 may have any stride, as in PyTorch). */
    boolean isContiguous() {
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /**
     * Number of storage elements from {@code offset} to the last element addressed, inclusive; 0 when empty. Throws
     * {@link ArithmeticException} on overflow, like {@link #numel()}.
     */
    long span() {
        if (isEmpty()) {
            return 0;
        }
        long last = 0;
        for (int d = 0; d < shape.length; d++) {
            last = Math.addExact(last, Math.multiplyExact(shape[d] - 1, stride[d]));
        }
        return Math.addExact(last, 1);
    }

    private boolean isEmpty() {
        for (long d : shape) {
            if (d == 0) {
                return true;
            }
        }
        return false;
    }
}
