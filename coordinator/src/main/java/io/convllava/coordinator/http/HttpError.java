package io.convllava.coordinator.http;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A refusal or failure to answer with, in OpenAI's error shape: {@code {"error": {"message", "type", "param",
 * "code"}}} under the HTTP status. Handlers throw it; the server writes it (or, once an event stream has begun, sends
 * it as the stream's last event).
 */
public final class HttpError extends RuntimeException {
    private final HttpResponseStatus status;
    private final String type;
    private final String param;
    private final String code;
    private final Map<String, String> headers;

    /**
     * @param type  the error's kind, e.g. {@code invalid_request_error}
     * @param param the request parameter at fault, e.g. {@code messages[0].content}; null when none is
     * @param code  a stable machine-readable reason, e.g. {@code model_not_found}; null when none
     */
    public HttpError(HttpResponseStatus status, String type, String message, String param, String code) {
        this(status, type, message, param, code, Map.of());
    }

    private HttpError(HttpResponseStatus status, String type, String message, String param, String code,
                      Map<String, String> headers) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    /** 400: the request is malformed or asks for what this server does not do; {@code param} names the field. */
    public static HttpError invalid(String message, String param) {
        return new HttpError(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", message, param, null);
    }

    /** 400 for a parameter this server does not support (or not with that value). */
    public static HttpError unsupported(String message, String param) {
        return new HttpError(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", message, param,
                "unsupported_parameter");
    }

    public static HttpError unauthorized(String message) {
        return new HttpError(HttpResponseStatus.UNAUTHORIZED, "authentication_error", message, null,
                "invalid_api_key");
    }

    public static HttpError notFound(String message, String code) {
        return new HttpError(HttpResponseStatus.NOT_FOUND, "invalid_request_error", message, null, code);
    }

    public static HttpError tooLarge(String message) {
        return new HttpError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "invalid_request_error", message, null,
                "request_too_large");
    }

    /** 503: the server cannot take the request now (starting, stopping, or its HTTP workers are all busy). */
    public static HttpError unavailable(String message) {
        return new HttpError(HttpResponseStatus.SERVICE_UNAVAILABLE, "service_unavailable_error", message, null,
                null);
    }

    public static HttpError internal(String message) {
        return new HttpError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "server_error", message, null, null);
    }

    /** The same error with one more response header (e.g. {@code Retry-After}). */
    public HttpError withHeader(String name, String value) {
        Map<String, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new HttpError(status, type, getMessage(), param, code, more);
    }

    public HttpResponseStatus status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public Map<String, String> headers() {
        return headers;
    }

    /** {@code {"error": {"message", "type", "param", "code"}}}, absent values as JSON null. */
    public JsonObject toJson() {
        JsonObject error = new JsonObject();
        error.addProperty("message", getMessage());
        error.addProperty("type", type);
        error.add("param", param == null ? JsonNull.INSTANCE : new JsonPrimitive(param));
        error.add("code", code == null ? JsonNull.INSTANCE : new JsonPrimitive(code));
        JsonObject body = new JsonObject();
        body.add("error", error);
        return body;
    }
}
