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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
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

    private record Entry(TensorInfo info, long offset, long bytes) {
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
        requireDisjoint(result);
        return Collections.unmodifiableMap(result);
    }

    private Entry parseEntry(String name, JsonElement json, long dataStart) {
        String where = "tensor '" + name + "' in " + file.path();
        if (!json.isJsonObject()) {
            throw new CheckpointException("malformed header entry for " + where + ": not a JSON object");
        }
        JsonObject o = json.getAsJsonObject();
        JsonElement dtypeJson = o.get("dtype");
        if (dtypeJson == null || !dtypeJson.isJsonPrimitive() || !dtypeJson.getAsJsonPrimitive().isString()) {
            throw new CheckpointException("malformed header entry for " + where + ": 'dtype' must be a string");
        }
        DType dtype = dtypeOf(dtypeJson.getAsString(), name);
        long[] shape = integers(o.get("shape"), where, "shape", TensorShapes.MAX_RANK);
        long[] offsets = integers(o.get("data_offsets"), where, "data_offsets", 2);
        long bytes = TensorShapes.bytes(TensorShapes.numel(shape, where), dtype, where);
        if (offsets.length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] - offsets[0] != bytes) {
            throw new CheckpointException(where + " has data_offsets " + Arrays.toString(offsets)
                    + " that do not match its " + dtype + " shape " + Arrays.toString(shape) + " ("
                    + bytes + " bytes)");
        }
        // an overflowing dataStart + begin is negative, which requireRange refuses
        file.requireRange(dataStart + offsets[0], bytes, "tensor '" + name + "'");
        return new Entry(new TensorInfo(name, dtype, shape, file.path()), dataStart + offsets[0], bytes);
    }

    /**
     * A header array of at most {@code maxLength} integers. Gson would silently truncate fractions and wrap
     * numbers beyond 64 bits, so each is parsed from its text.
     */
    private static long[] integers(JsonElement json, String where, String field, int maxLength) {
        String problem = "malformed header entry for " + where + ": '" + field + "' must be an array of at most "
                + maxLength + " integers";
        if (json == null || !json.isJsonArray() || json.getAsJsonArray().size() > maxLength) {
            throw new CheckpointException(problem);
        }
        JsonArray a = json.getAsJsonArray();
        long[] result = new long[a.size()];
        for (int i = 0; i < result.length; i++) {
            JsonElement e = a.get(i);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                throw new CheckpointException(problem);
            }
            try {
                result[i] = Long.parseLong(e.getAsString());
            } catch (NumberFormatException ex) {
                String text = e.getAsString();
                throw new CheckpointException(problem + ", found "
                        + (text.length() > 40 ? text.substring(0, 40) + "..." : text), ex);
            }
        }
        return result;
    }

    /** Tensors may leave gaps between them but must not share bytes. */
    private void requireDisjoint(Map<String, Entry> entries) {
        List<Entry> byOffset = new ArrayList<>(entries.values());
        byOffset.sort(Comparator.comparingLong(Entry::offset));
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.bytes() == 0) {
                continue;
            }
            if (previous != null && e.offset() < previous.offset() + previous.bytes()) {
                throw new CheckpointException("tensors '" + previous.info().name() + "' and '" + e.info().name()
                        + "' in " + file.path() + " overlap: their data_offsets share bytes");
            }
            previous = e;
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
        return file.map(e.offset(), file.checkedLength(e.bytes(), name))
                .asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private Entry entry(String name) {
        return lookup(entries, name);
    }
}
