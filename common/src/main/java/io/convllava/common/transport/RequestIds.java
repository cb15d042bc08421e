package io.convllava.common.transport;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * The id of the client request a piece of work serves, so that every node's log lines about it can be found by it.
 * Within a process it travels in the gRPC {@link Context} ({@link #current()}); between nodes in the messages
 * themselves ({@code request_id} fields), since one batched call carries steps of many requests. A client may give it
 * in the request or as the {@value #HEADER_NAME} header, which {@link #fromHeader()} puts in the context.
 */
public final class RequestIds {
    public static final String HEADER_NAME = "x-request-id";
    public static final Metadata.Key<String> HEADER = Metadata.Key.of(HEADER_NAME, Metadata.ASCII_STRING_MARSHALLER);
    /** Key of the id in structured log lines (slf4j key-value pairs and MDC). */
    public static final String LOG_KEY = "request_id";
    /** Longest id kept; a longer one is cut, so that a client cannot make every log line huge. */
    public static final int MAX_LENGTH = 128;
    /** Ids of the coordinators' own health probes ({@code canary-...}), which nodes log at DEBUG only. */
    public static final String CANARY_PREFIX = "canary-";
    private static final Context.Key<String> KEY = Context.key(LOG_KEY);

    private RequestIds() {
    }

    /** The request id of the current context, or null. */
    public static String current() {
        return KEY.get();
    }

    /** A context whose {@link #current()} is {@code requestId}. */
    public static Context with(String requestId) {
        return Context.current().withValue(KEY, requestId);
    }

    /** {@code id} cut to {@link #MAX_LENGTH} characters, control characters replaced; null or empty stays so. */
    public static String sanitize(String id) {
        if (id == null || id.isEmpty()) {
            return id;
        }
        String cut = id.length() > MAX_LENGTH ? id.substring(0, MAX_LENGTH) : id;
        return cut.chars().allMatch(c -> c >= 0x20 && c != 0x7f) ? cut
                : cut.codePoints().map(c -> c < 0x20 || c == 0x7f ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }

    /** A server interceptor putting the {@value #HEADER_NAME} header, when a call has one, in the call's context. */
    public static ServerInterceptor fromHeader() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                              ServerCallHandler<Q, R> next) {
                String id = sanitize(headers.get(HEADER));
                return id == null || id.isEmpty() ? next.startCall(call, headers)
                        : Contexts.interceptCall(with(id), call, headers, next);
            }
        };
    }
}
