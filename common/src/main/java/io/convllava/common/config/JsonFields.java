package io.convllava.common.config;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.convllava.common.checkpoint.CheckpointException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Typed access to the fields of one JSON config file; errors name the file and the field. */
final class JsonFields {
    /** A Hugging Face config.json is a few KB; the limit only keeps a crafted file from filling the heap. */
    static final long MAX_CONFIG_BYTES = 16L << 20;

    private final Path file;
    private final JsonObject json;

    private JsonFields(Path file, JsonObject json) {
        this.file = file;
        this.json = json;
    }

    static JsonFields read(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_CONFIG_BYTES) {
                throw new CheckpointException("config " + file + " has " + size + " bytes, more than the limit of "
                        + MAX_CONFIG_BYTES);
            }
            JsonElement root = JsonParser.parseString(Files.readString(file));
            if (!root.isJsonObject()) {
                throw new CheckpointException("config " + file + " is not a JSON object");
            }
            return new JsonFields(file, root.getAsJsonObject());
        } catch (NoSuchFileException e) {
            throw new CheckpointException("config file not found: " + file, e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read config " + file + ": " + e, e);
        } catch (JsonParseException e) {
            throw new CheckpointException("cannot parse config " + file + ": " + e.getMessage(), e);
        }
    }

    Path file() {
        return file;
    }

    /** The field, or null when absent or JSON null. */
    JsonElement get(String field) {
        JsonElement e = json.get(field);
        return e == null || e.isJsonNull() ? null : e;
    }

    boolean has(String field) {
        return get(field) != null;
    }

    CheckpointException error(String field, String problem) {
        return new CheckpointException("config " + file + ": field '" + field + "' " + problem);
    }

    int intOr(String field, int fallback) {
        return has(field) ? asInt(field, get(field)) : fallback;
    }

    int requireInt(String field) {
        if (!has(field)) {
            throw error(field, "is missing");
        }
        return asInt(field, get(field));
    }

    int asInt(String field, JsonElement e) {
        try {
            double d = e.getAsDouble();
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw error(field, "must be an integer, found " + e);
            }
            return (int) d;
        } catch (UnsupportedOperationException | IllegalStateException | NumberFormatException ex) {
            throw error(field, "must be an integer, found " + e);
        }
    }

    double doubleOr(String field, double fallback) {
        JsonElement e = get(field);
        return e == null ? fallback : asDouble(field, e);
    }

    /** {@code e} as a finite number; {@code field} names it (e.g. {@code rope_parameters.rope_theta}) on error. */
    double asDouble(String field, JsonElement e) {
        double d;
        try {
            d = e.getAsDouble();
        } catch (UnsupportedOperationException | IllegalStateException | NumberFormatException ex) {
            throw error(field, "must be a number, found " + e);
        }
        if (!Double.isFinite(d)) {
            throw error(field, "must be a finite number, found " + e);
        }
        return d;
    }

    boolean boolOr(String field, boolean fallback) {
        JsonElement e = get(field);
        if (e == null) {
            return fallback;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw error(field, "must be true or false, found " + e);
        }
        return e.getAsBoolean();
    }

    String stringOr(String field, String fallback) {
        JsonElement e = get(field);
        return e == null ? fallback : asString(field, e);
    }

    String asString(String field, JsonElement e) {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw error(field, "must be a string, found " + e);
        }
        return e.getAsString();
    }

    int[] intArrayOr(String field, int[] fallback) {
        JsonElement e = get(field);
        if (e == null) {
            return fallback.clone();
        }
        if (!e.isJsonArray()) {
            throw error(field, "must be an array of integers, found " + e);
        }
        JsonArray a = e.getAsJsonArray();
        int[] result = new int[a.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = asInt(field, a.get(i));
        }
        return result;
    }

    float[] floatArrayOr(String field, float[] fallback) {
        JsonElement e = get(field);
        if (e == null) {
            return fallback.clone();
        }
        if (!e.isJsonArray()) {
            throw error(field, "must be an array of numbers, found " + e);
        }
        JsonArray a = e.getAsJsonArray();
        float[] result = new float[a.size()];
        for (int i = 0; i < result.length; i++) {
            try {
                result[i] = a.get(i).getAsFloat();
            } catch (UnsupportedOperationException | IllegalStateException | NumberFormatException ex) {
                throw error(field, "must be an array of numbers, found " + e);
            }
        }
        return result;
    }
}
