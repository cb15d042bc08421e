package io.convllava.coordinator.httpapi;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.convllava.coordinator.http.HttpError;

import java.math.BigDecimal;

/**
 * Typed reads of a JSON request's parameters: a parameter that is absent or {@code null} reads as null, one of the
 * wrong type is a 400 naming it ({@code param}: its path in the request, e.g. {@code messages[2].content}).
 */
final class JsonParams {
    private JsonParams() {
    }

    /** The value of {@code name}, or null when it is absent or JSON null. */
    static JsonElement get(JsonObject o, String name) {
        JsonElement e = o.get(name);
        return e == null || e.isJsonNull() ? null : e;
    }

    static JsonObject object(JsonElement e, String param) {
        if (e == null || !e.isJsonObject()) {
            throw wrongType(param, "an object", e);
        }
        return e.getAsJsonObject();
    }

    static JsonArray array(JsonObject o, String name, String param) {
        JsonElement e = get(o, name);
        if (e != null && !e.isJsonArray()) {
            throw wrongType(param, "an array", e);
        }
        return e == null ? null : e.getAsJsonArray();
    }

    static String string(JsonObject o, String name, String param) {
        JsonElement e = get(o, name);
        return e == null ? null : string(e, param);
    }

    static String string(JsonElement e, String param) {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw wrongType(param, "a string", e);
        }
        return e.getAsString();
    }

    static Boolean bool(JsonObject o, String name, String param) {
        JsonElement e = get(o, name);
        if (e == null) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw wrongType(param, "true or false", e);
        }
        return e.getAsBoolean();
    }

    static Double number(JsonObject o, String name, String param) {
        JsonElement e = get(o, name);
        if (e == null) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw wrongType(param, "a number", e);
        }
        return e.getAsDouble();
    }

    /** A whole number within the range of a long. */
    static Long integer(JsonObject o, String name, String param) {
        JsonElement e = get(o, name);
        if (e == null) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw wrongType(param, "a whole number", e);
        }
        BigDecimal value = e.getAsBigDecimal();
        try {
            return value.longValueExact();
        } catch (ArithmeticException notWhole) {
            throw HttpError.invalid(param + " must be a whole number (within 64 bits), got " + e, param);
        }
    }

    private static HttpError wrongType(String param, String expected, JsonElement got) {
        return HttpError.invalid(param + " must be " + expected + ", got " + describe(got), param);
    }

    /** The value, or its type when it is large (an object, an array, a long string). */
    private static String describe(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return "nothing";
        }
        if (e.isJsonObject()) {
            return "an object";
        }
        if (e.isJsonArray()) {
            return "an array";
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        String text = p.toString();
        return text.length() <= 40 ? text : (p.isString() ? "a string" : "a number") + " of " + text.length()
                + " characters";
    }
}
