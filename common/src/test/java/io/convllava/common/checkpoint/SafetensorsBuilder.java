package io.convllava.common.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds small, possibly malformed {@code .safetensors} files for tests from raw little-endian bytes and any dtype
 * string (the product's {@link SafetensorsWriter} streams well-formed large ones).
 */
final class SafetensorsBuilder {
    private final Map<String, Object[]> tensors = new LinkedHashMap<>();

    SafetensorsBuilder add(String name, String dtype, long[] shape, byte[] littleEndianData) {
        tensors.put(name, new Object[] {dtype, shape, littleEndianData});
        return this;
    }

    SafetensorsBuilder addFloats(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return add(name, "F32", shape, b.array());
    }

    static byte[] shorts(short... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(values);
        return b.array();
    }

    void write(Path file) throws IOException {
        JsonObject header = new JsonObject();
        long offset = 0;
        for (Map.Entry<String, Object[]> e : tensors.entrySet()) {
            JsonObject t = new JsonObject();
            t.addProperty("dtype", (String) e.getValue()[0]);
            JsonArray shape = new JsonArray();
            for (long d : (long[]) e.getValue()[1]) {
                shape.add(d);
            }
            t.add("shape", shape);
            int length = ((byte[]) e.getValue()[2]).length;
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + length);
            t.add("data_offsets", offsets);
            header.add(e.getKey(), t);
            offset += length;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate((int) (8 + json.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        for (Object[] t : tensors.values()) {
            out.put((byte[]) t[2]);
        }
        Files.write(file, out.array());
    }
}
