package io.convllava.common.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Streams a {@code .safetensors} file of any size: the header first, then each tensor's bytes produced chunk by
 * chunk, so nothing close to the file's size is ever held in memory (benchmark checkpoints, conversions).
 */
public final class SafetensorsWriter {
    private static final int CHUNK = 1 << 22;

    /** One tensor to write: its key, element type and shape. */
    public record Entry(String name, DType dtype, long[] shape) {
        public long bytes() {
            long n = dtype.bytes();
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Fills {@code out} (little-endian, {@code out.remaining()} bytes) with the next bytes of a tensor. */
    @FunctionalInterface
    public interface Filler {
        void fill(Entry tensor, long byteOffset, ByteBuffer out);
    }

    private SafetensorsWriter() {
    }

    public static void write(Path file, List<Entry> tensors, Filler filler) throws IOException {
        JsonObject header = new JsonObject();
        JsonObject metadata = new JsonObject();
        metadata.addProperty("format", "pt");
        header.add("__metadata__", metadata);
        long offset = 0;
        for (Entry t : tensors) {
            JsonObject json = new JsonObject();
            json.addProperty("dtype", t.dtype().name());
            JsonArray shape = new JsonArray();
            for (long d : t.shape()) {
                shape.add(d);
            }
            json.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + t.bytes());
            json.add("data_offsets", offsets);
            header.add(t.name(), json);
            offset += t.bytes();
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer head = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(json.length).put(json).flip();
            writeFully(out, head);
            ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry t : tensors) {
                for (long done = 0; done < t.bytes(); ) {
                    int n = (int) Math.min(CHUNK, t.bytes() - done);
                    chunk.clear().limit(n);
                    filler.fill(t, done, chunk.slice().order(ByteOrder.LITTLE_ENDIAN));
                    chunk.position(0).limit(n);
                    writeFully(out, chunk);
                    done += n;
                }
            }
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            out.write(data);
        }
    }
}
