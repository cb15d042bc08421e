package io.convllava.common.cluster;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;

import java.nio.charset.StandardCharsets;

/** Gson for the znode payloads; validation errors of the record constructors come out as they were thrown. */
final class Json {
    private static final Gson GSON = new Gson();

    private Json() {
    }

    static byte[] write(Object value) {
        return GSON.toJson(value).getBytes(StandardCharsets.UTF_8);
    }

    /** @throws IllegalArgumentException naming {@code what} when the JSON is malformed or fails validation */
    static <T> T read(byte[] json, Class<T> type, String what) {
        try {
            T value = GSON.fromJson(new String(json, StandardCharsets.UTF_8), type);
            if (value == null) {
                throw new IllegalArgumentException(what + " is empty");
            }
            return value;
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // Gson wraps exceptions thrown by a record's canonical constructor
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof IllegalArgumentException invalid) {
                    throw new IllegalArgumentException(what + ": " + invalid.getMessage(), invalid);
                }
            }
            throw e;
        }
    }
}
