package io.convllava.common.checkpoint;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A read-only checkpoint file mapped on demand in windows below 2 GiB, so files (and tensors) of any size work.
 * Only the byte ranges a caller reads are mapped; the page cache is the only other copy of the data.
 */
final class MappedFile implements Closeable {
    static final long DEFAULT_WINDOW_BYTES = 1L << 30;
    private static final long MAX_FLOATS = Integer.MAX_VALUE / Float.BYTES;

    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final long windowBytes;

    MappedFile(Path path) {
        this(path, DEFAULT_WINDOW_BYTES);
    }

    /** {@code windowBytes} (a multiple of 8, below 2 GiB) bounds each mapping. */
    MappedFile(Path path, long windowBytes) {
        if (windowBytes <= 0 || windowBytes % 8 != 0 || windowBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("window size must be a positive multiple of 8 below 2 GiB: " + windowBytes);
        }
        this.path = path;
        this.windowBytes = windowBytes;
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.READ);
            this.size = channel.size();
        } catch (NoSuchFileException e) {
            throw new CheckpointException("checkpoint file not found: " + path, e);
        } catch (IOException e) {
            throw new CheckpointException("cannot open checkpoint file " + path + ": " + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    long size() {
        return size;
    }

    /** Maps {@code [offset, offset + length)} little-endian; the range must lie inside the file. */
    ByteBuffer map(long offset, int length) {
        requireRange(offset, length, "bytes");
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, offset, length).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new CheckpointException("cannot map " + length + " bytes at offset " + offset + " of " + path
                    + ": " + e.getMessage(), e);
        }
    }

    /** {@code bytes} as one mapping's length: a tensor of 2 GiB or more is refused, naming it. */
    int checkedLength(long bytes, String tensor) {
        if (bytes > Integer.MAX_VALUE) {
            throw new CheckpointException("tensor '" + tensor + "' in " + path + " has " + bytes
                    + " bytes; tensors of 2 GiB or more are not supported");
        }
        return (int) bytes;
    }

    /** Copies {@code [offset, offset + length)} into a new little-endian heap buffer (for small structures). */
    ByteBuffer read(long offset, int length, String what) {
        requireRange(offset, length, what);
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (buf.hasRemaining()) {
                if (channel.read(buf, offset + buf.position()) < 0) {
                    throw new CheckpointException(path + " ended while reading " + what);
                }
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + what + " of " + path + ": " + e.getMessage(), e);
        }
        return buf.flip();
    }

    /** Throws naming {@code what} when {@code [offset, offset + length)} does not lie inside the file. */
    void requireRange(long offset, long length, String what) {
        if (offset < 0 || length < 0 || offset > size - length) { // no offset + length: it could overflow
            throw new CheckpointException(path + " is truncated or corrupt: " + what + " needs " + length
                    + " bytes at offset " + offset + " but the file has " + size + " bytes");
        }
    }

    /**
     * Reads {@code numel} contiguous elements of {@code dtype} starting at byte {@code offset} into a new direct,
     * native-order float buffer, converting window by window (no second full copy).
     */
    FloatBuffer readFloats(long offset, long numel, DType dtype, ByteOrder order, String what) {
        FloatBuffer dst = allocateFloats(numel, what);
        long bytes = numel * dtype.bytes();
        requireRange(offset, bytes, what);
        long step = windowBytes / dtype.bytes() * dtype.bytes();
        for (long done = 0; done < bytes; done += step) {
            int length = (int) Math.min(step, bytes - done);
            Widening.convert(map(offset + done, length).order(order), dtype, dst);
        }
        return dst.flip();
    }

    FloatBuffer allocateFloats(long numel, String what) {
        if (numel > MAX_FLOATS) {
            throw new CheckpointException(what + " in " + path + " has " + numel
                    + " elements, more than one float32 buffer can hold (" + MAX_FLOATS + ")");
        }
        return ByteBuffer.allocateDirect((int) numel * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new CheckpointException("cannot close " + path + ": " + e.getMessage(), e);
        }
    }
}
