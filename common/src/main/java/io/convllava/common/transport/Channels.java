package io.convllava.common.transport;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;

import java.util.concurrent.TimeUnit;

/** Client side of the cluster transport: plaintext Netty channels and per-call deadlines. */
public final class Channels {
    private Channels() {
    }

    /** A channel to {@code host:port} with the options' message limit and keepalive. The caller shuts it down. */
    public static ManagedChannel forAddress(String hostPort, TransportOptions options) {
        return NettyChannelBuilder.forTarget(hostPort)
                .usePlaintext()
                .maxInboundMessageSize(options.maxMessageBytes())
                .keepAliveTime(options.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(options.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .build();
    }

    /**
     * The stub with the options' call deadline. Calls made while serving a request also keep that request's
     * deadline (gRPC propagates the context's deadline), so the earlier of the two applies.
     */
    public static <S extends AbstractStub<S>> S withDeadline(S stub, TransportOptions options) {
        return stub.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS);
    }
}
