package io.convllava.common.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}}), then the raw little-endian tensor bytes. Tensors are read lazily
 * through windowed memory maps.
 */
public final class SafetensorsFile extends MappedCheckpointFile {
    /** The safetensors format's own limit on the header size. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private final Map<String, Entry> entries;

    private record Entry(TensorInfo info, long offset) {
    }

    public SafetensorsFile(Path path) {
        this(new MappedFile(path));
    }

    SafetensorsFile(MappedFile file) {
        super(file);
        try {
            this.entries = readHeader();
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private Map<String, Entry> readHeader() {
        Path path = file.path();
        if (file.size() < 8) {
            throw new CheckpointException(path + " is not a safetensors file: only " + file.size() + " bytes");
        }
        long headerLength = file.map(0, 8).getLong(0);
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > file.size()) {
            throw new CheckpointException(path + " is not a valid safetensors file: header length " + headerLength
                    + " (file has " + file.size() + " bytes, limit " + MAX_HEADER_BYTES + ")");
        }
        ByteBuffer headerBytes = file.map(8, (int) headerLength);
        byte[] json = new byte[(int) headerLength];
        headerBytes.get(json);
        JsonObject header;
        try {
            header = JsonParser.parseString(new String(json, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new CheckpointException("cannot parse the JSON header of " + path + ": " + e.getMessage(), e);
        }
        long dataStart = 8 + headerLength;
        Map<String, Entry> result = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (!e.getKey().equals("__metadata__")) {
                result.put(e.getKey(), parseEntry(e.getKey(), e.getValue(), dataStart));
            }
        }
        return Collections.unmodifiableMap(result);
    }

    private Entry parseEntry(String name, JsonElement json, long dataStart) {
        Path path = file.path();
        try {
            JsonObject o = json.getAsJsonObject();
            DType dtype = dtypeOf(o.get("dtype").getAsString(), name);
            JsonArray shapeJson = o.getAsJsonArray("shape");
            long[] shape = new long[shapeJson.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeJson.get(i).getAsLong();
                if (shape[i] < 0) {
                    throw new CheckpointException("tensor '" + name + "' in " + path + " has a negative dimension");
                }
            }
            JsonArray offsets = o.getAsJsonArray("data_offsets");
            long begin = offsets.get(0).getAsLong();
            long end = offsets.get(1).getAsLong();
            TensorInfo info = new TensorInfo(name, dtype, shape, path);
            if (begin < 0 || end - begin != info.numel() * dtype.bytes()) {
                throw new CheckpointException("tensor '" + name + "' in " + path + " has data_offsets [" + begin + ", "
                        + end + "] that do not match its " + dtype + " shape " + java.util.Arrays.toString(shape));
            }
            file.requireRange(dataStart + begin, end - begin, "tensor '" + name + "'");
            return new Entry(info, dataStart + begin);
        } catch (NullPointerException | IllegalStateException | UnsupportedOperationException
                 | IndexOutOfBoundsException | NumberFormatException e) {
            throw new CheckpointException("malformed header entry for tensor '" + name + "' in " + path + ": " + json, e);
        }
    }

    private DType dtypeOf(String name, String tensor) {
        return switch (name) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "F64" -> DType.F64;
            case "I64" -> DType.I64;
            case "I32" -> DType.I32;
            case "I16" -> DType.I16;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "BOOL" -> DType.BOOL;
            default -> throw new CheckpointException("tensor '" + tensor + "' in " + file.path()
                    + " has unsupported dtype " + name);
        };
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        return entry(name).info();
    }

    @Override
    public FloatBuffer readFloat(String name) {
        Entry e = entry(name);
        return file.readFloats(e.offset(), e.info().numel(), e.info().dtype(), ByteOrder.LITTLE_ENDIAN,
                "tensor '" + name + "'");
    }

    @Override
    public ByteBuffer readRaw(String name) {
        Entry e = entry(name);
        return file.map(e.offset(), file.checkedLength(e.info().numel() * e.info().dtype().bytes(), name))
                .asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private Entry entry(String name) {
        return lookup(entries, name);
    }
}
