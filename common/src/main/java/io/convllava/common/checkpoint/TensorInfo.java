package io.convllava.common.checkpoint;

import java.nio.file.Path;
import java.util.Arrays;

/** Metadata of one stored tensor: its key, element type, shape and the file that holds it. */
public record TensorInfo(String name, DType dtype, long[] shape, Path file) {

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " in " + file;
    }
}
