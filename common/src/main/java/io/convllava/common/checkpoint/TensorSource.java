package io.convllava.common.checkpoint;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Set;

/**
 * Named tensors of a checkpoint (one file, several shards, or a prefixed view of either).
 * Reading is lazy: only the tensors a caller asks for are materialised.
 */
public interface TensorSource extends Closeable {

    /** Every tensor key available. */
    Set<String> names();

    default boolean contains(String name) {
        return names().contains(name);
    }

    /** Metadata of a key; throws {@link CheckpointException} naming the key (and the checkpoint) when absent. */
    TensorInfo info(String name);

    /**
     * The tensor widened to float32, row-major, in a direct native-order buffer of exactly numel elements.
     * Throws {@link CheckpointException} naming the key and file when absent or unreadable.
     */
    FloatBuffer readFloat(String name);

    /** Like {@link #readFloat(String)} but also checks the shape, naming key, file, expected and found shape on mismatch. */
    default FloatBuffer readFloat(String name, long... expectedShape) {
        TensorInfo info = info(name);
        if (!java.util.Arrays.equals(info.shape(), expectedShape)) {
            throw new CheckpointException("tensor '" + name + "' in " + info.file() + " has shape "
                    + java.util.Arrays.toString(info.shape()) + ", expected " + java.util.Arrays.toString(expectedShape));
        }
        return readFloat(name);
    }

    /**
     * The tensor's stored bytes, row-major and little-endian, not converted: a read-only slice of the file's memory map
     * when the tensor is stored contiguously in little-endian order (the page cache then holds the only copy), else a
     * packed copy. 16-bit weights that stay 16-bit in memory are read this way.
     */
    default ByteBuffer readRaw(String name) {
        throw new CheckpointException("tensor '" + name + "': " + this + " cannot hand out stored bytes");
    }

    @Override
    void close();
}
