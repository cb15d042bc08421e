package io.convllava.coordinator.httpapi;

import io.convllava.coordinator.http.HttpError;
import io.convllava.coordinator.server.AdmissionControl;
import io.grpc.Metadata;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** gRPC failures as HTTP errors: the status by the code, the description kept, the retry hint as headers. */
class StatusErrorsTest {

    @Test
    void eachCodeHasItsHttpStatus() {
        assertEquals(400, http(Status.INVALID_ARGUMENT).status().code());
        assertEquals(400, http(Status.FAILED_PRECONDITION).status().code());
        assertEquals(401, http(Status.UNAUTHENTICATED).status().code());
        assertEquals(404, http(Status.NOT_FOUND).status().code());
        assertEquals(429, http(Status.RESOURCE_EXHAUSTED).status().code());
        assertEquals(503, http(Status.UNAVAILABLE).status().code());
        assertEquals(504, http(Status.DEADLINE_EXCEEDED).status().code());
        assertEquals(500, http(Status.INTERNAL).status().code());
    }

    @Test
    void anUnknownModelNamesTheParameter() {
        HttpError e = http(Status.NOT_FOUND.withDescription("model 'gpt-4' is not served here"));
        assertEquals("model 'gpt-4' is not served here", e.getMessage());
        assertEquals("model", e.param());
        assertEquals("model_not_found", e.code());
        assertNull(http(Status.NOT_FOUND.withDescription("messages[0].images[0].sha256 ... is not cached")).code());
    }

    @Test
    void overloadCarriesTheRetryHint() {
        Metadata trailers = new Metadata();
        trailers.put(AdmissionControl.RETRY_AFTER_MS, "1500");
        HttpError e = StatusErrors.toHttp(Status.RESOURCE_EXHAUSTED.withDescription("the coordinator is busy")
                .asRuntimeException(trailers));
        assertEquals(429, e.status().code());
        assertEquals("rate_limit_error", e.type());
        assertEquals("1500", e.headers().get("retry-after-ms"));
        assertEquals("2", e.headers().get("Retry-After"), "whole seconds, rounded up");
    }

    private static HttpError http(Status status) {
        return StatusErrors.toHttp(status.asRuntimeException());
    }
}
