package io.convllava.coordinator.httpapi;

import io.convllava.coordinator.http.HttpError;
import io.convllava.coordinator.server.AdmissionControl;
import io.grpc.Metadata;
import io.grpc.Status;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A failed call of the public gRPC API as the HTTP error that says the same: the description unchanged, the status
 * by the code (INVALID_ARGUMENT 400, UNAUTHENTICATED 401, NOT_FOUND 404, RESOURCE_EXHAUSTED 429 with the retry hint
 * as {@code retry-after-ms} and {@code Retry-After}, UNAVAILABLE 503, DEADLINE_EXCEEDED 504, others 500).
 */
final class StatusErrors {
    private StatusErrors() {
    }

    static HttpError toHttp(Throwable failure) {
        Status status = Status.fromThrowable(failure);
        String message = status.getDescription() != null ? status.getDescription()
                : "the call failed with " + status.getCode();
        HttpError error = switch (status.getCode()) {
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> HttpError.invalid(message, null);
            case UNAUTHENTICATED -> HttpError.unauthorized(message);
            case PERMISSION_DENIED -> new HttpError(HttpResponseStatus.FORBIDDEN, "permission_error", message, null,
                    null);
            case NOT_FOUND -> message.startsWith("model ")
                    ? new HttpError(HttpResponseStatus.NOT_FOUND, "invalid_request_error", message, "model",
                            "model_not_found")
                    : HttpError.notFound(message, null);
            case RESOURCE_EXHAUSTED -> new HttpError(HttpResponseStatus.TOO_MANY_REQUESTS, "rate_limit_error",
                    message, null, "overloaded");
            case UNAVAILABLE, CANCELLED -> HttpError.unavailable(message);
            case DEADLINE_EXCEEDED -> new HttpError(HttpResponseStatus.GATEWAY_TIMEOUT, "timeout_error", message,
                    null, null);
            default -> HttpError.internal(message);
        };
        Metadata trailers = Status.trailersFromThrowable(failure);
        String retryMs = trailers == null ? null : trailers.get(AdmissionControl.RETRY_AFTER_MS);
        if (retryMs != null && retryMs.matches("\\d{1,9}")) {
            long seconds = (Long.parseLong(retryMs) + 999) / 1000;
            error = error.withHeader("retry-after-ms", retryMs).withHeader("Retry-After", Long.toString(seconds));
        }
        return error;
    }
}
