package io.convllava.common.transport;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.convllava.common.metrics.GrpcMetrics;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;

import java.util.concurrent.TimeUnit;

/** Client side of the cluster transport: Netty channels (TLS when the options have it) and per-call deadlines. */
public final class Channels {
    private Channels() {
    }

    /** A channel to {@code host:port} with the options' message limit and keepalive. The caller shuts it down. */
    public static ManagedChannel forAddress(String hostPort, TransportOptions options) {
        return forAddress(hostPort, options, false);
    }

    /**
     * As {@link #forAddress(String, TransportOptions)}; with {@code directCallbacks}, calls' callbacks run on the
     * transport thread (they must not block).
     */
    public static ManagedChannel forAddress(String hostPort, TransportOptions options, boolean directCallbacks) {
        NettyChannelBuilder builder = NettyChannelBuilder.forTarget(hostPort);
        if (options.tls() != null) {
            builder.sslContext(options.tls().clientContext());
        } else {
            builder.usePlaintext();
        }
        builder.maxInboundMessageSize(options.maxMessageBytes())
                .keepAliveTime(options.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(options.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
                // the cluster's own failover decides what is retried; gRPC's retry buffering costs every call
                .disableRetry();
        if (directCallbacks) {
            builder.directExecutor();
        }
        builder.intercept(GrpcMetrics.client());
        return builder.build();
    }

    /**
     * The stub for a call made while serving a request with a deadline: unchanged, the request's deadline governs
     * (gRPC propagates the context's deadline; a 7B prefill of thousands of positions takes minutes, as its client
     * allowed). Otherwise the stub with the options' call deadline.
     */
    public static <S extends AbstractStub<S>> S withDeadline(S stub, TransportOptions options) {
        if (Context.current().getDeadline() != null) {
            return stub;
        }
        return stub.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS);
    }
}
