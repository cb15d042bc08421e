package io.convllava.common.tensor;

import java.util.Arrays;

/**
 * A float32 tensor on the Java heap, row-major. The unit of exchange between model code, transport and tests
 * (image pixels, image embeddings, hidden states, logits).
 */
public record HostTensor(long[] shape, float[] data) {

    public HostTensor {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n
                    + " elements, got " + data.length);
        }
    }

    public static HostTensor of(float[] data, long... shape) {
        return new HostTensor(shape, data);
    }

    /** Rows [from, to) of a [N, W] tensor, as a [to - from, W] copy. */
    public HostTensor rows(int from, int to) {
        int width = (int) dim(1);
        return of(Arrays.copyOfRange(data, from * width, to * width), to - from, width);
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    @Override
    public String toString() {
        return "HostTensor" + Arrays.toString(shape);
    }
}
