package io.convllava.coordinator.httpapi;

import io.convllava.proto.v1.GenerateRequest;

/**
 * A chat completion request as the public API takes it.
 *
 * @param request      the generation, as a gRPC client would send it
 * @param stream       whether the answer goes back as server-sent events
 * @param includeUsage whether a stream ends with a usage chunk ({@code stream_options.include_usage})
 */
record ChatRequest(GenerateRequest request, boolean stream, boolean includeUsage) {
}
