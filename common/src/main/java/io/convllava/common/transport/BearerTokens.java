package io.convllava.common.transport;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Bearer tokens on a public API: every call must carry {@code authorization: Bearer <token>} with one of the tokens
 * of a file (one per line; blank lines and lines starting with {@code #} are skipped), else UNAUTHENTICATED. Only the
 * tokens' SHA-256 digests are kept, compared in constant time; no token is ever logged.
 */
public final class BearerTokens implements ServerInterceptor {
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String PREFIX = "Bearer ";
    /**
     * Who is calling, while a call runs: a name for the caller's token (a digest prefix, never the token), so that
     * what one caller leaves (cached images) is not another's to use or probe. Empty without tokens.
     */
    public static final Context.Key<String> CALLER = Context.keyWithDefault("convllava-caller", "");

    private final List<byte[]> digests;

    private BearerTokens(List<byte[]> digests) {
        this.digests = List.copyOf(digests);
    }

    /** The tokens of {@code file}; fails naming the file when it is unreadable or holds none. */
    public static BearerTokens load(Path file) throws IOException {
        return new BearerTokens(tokensIn(file).stream().map(BearerTokens::sha256).toList());
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                      ServerCallHandler<Q, A> next) {
        String header = headers.get(AUTHORIZATION);
        String problem = refusal(header);
        if (problem != null) {
            call.close(Status.UNAUTHENTICATED.withDescription(problem), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        String caller = HexFormat.of().formatHex(sha256(header.substring(PREFIX.length()).strip()), 0, 8);
        return Contexts.interceptCall(Context.current().withValue(CALLER, caller), call, headers, next);
    }

    /**
     * Why a call with this {@code authorization} header value (null when absent) is refused, or null when it carries
     * an accepted token: for other transports of the same API (HTTP) to refuse in the same words.
     */
    public String refusal(String header) {
        return header == null ? "this API needs a bearer token: send the header 'authorization: Bearer"
                + " <token>' (convllava generate --token-file)"
                : !header.startsWith(PREFIX) ? "the authorization header is not 'Bearer <token>'"
                : !accepted(header.substring(PREFIX.length()).strip()) ? "the bearer token is not accepted"
                : null;
    }

    private boolean accepted(String token) {
        byte[] digest = sha256(token);
        boolean match = false;
        for (byte[] d : digests) {
            match |= MessageDigest.isEqual(d, digest);
        }
        return match;
    }

    /** A client interceptor that sends {@code token} with every call. */
    public static ClientInterceptor sending(String token) {
        String value = PREFIX + token.strip();
        return new ClientInterceptor() {
            @Override
            public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options,
                                                       Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<A> listener, Metadata headers) {
                        headers.put(AUTHORIZATION, value);
                        super.start(listener, headers);
                    }
                };
            }
        };
    }

    /** The first token of a token file, for a client. */
    public static String firstOf(Path file) throws IOException {
        return tokensIn(file).get(0);
    }

    /** The lines of a token file that are tokens: not blank, not {@code #} comments; at least one. */
    private static List<String> tokensIn(Path file) throws IOException {
        List<String> tokens = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String token = line.strip();
            if (!token.isEmpty() && !token.startsWith("#")) {
                tokens.add(token);
            }
        }
        if (tokens.isEmpty()) {
            throw new IllegalArgumentException("the token file " + file + " holds no token (one per line)");
        }
        return tokens;
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
