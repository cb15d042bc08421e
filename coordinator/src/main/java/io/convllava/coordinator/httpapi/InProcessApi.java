package io.convllava.coordinator.httpapi;

import io.convllava.common.transport.BearerTokens;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The coordinator's public gRPC service, called in process: the HTTP API goes through the very service the gRPC port
 * serves, interceptors (tokens) included, so that limits, admission, routing, failover and cancellation are the same.
 * Each call carries its HTTP caller's {@code Authorization} header as the gRPC {@code authorization} header.
 */
final class InProcessApi implements AutoCloseable {
    private final Server server;
    private final ManagedChannel channel;
    private final ThreadPoolExecutor executor;

    private InProcessApi(Server server, ManagedChannel channel, ThreadPoolExecutor executor) {
        this.server = server;
        this.channel = channel;
        this.executor = executor;
    }

    /**
     * @param service the public service as the gRPC port serves it (with its interceptors)
     * @param threads handler threads, as many as generations may run and wait at once (each holds one)
     */
    static InProcessApi start(ServerServiceDefinition service, int threads) throws IOException {
        String name = InProcessServerBuilder.generateName();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), new DefaultThreadFactory("http-api-call", true));
        executor.allowCoreThreadTimeOut(true);
        Server server = InProcessServerBuilder.forName(name).executor(executor).addService(service).build().start();
        return new InProcessApi(server, InProcessChannelBuilder.forName(name).build(), executor);
    }

    /** A stub whose calls carry {@code authorization} (the HTTP header's value; null = none). */
    ConvLlavaGrpc.ConvLlavaStub stub(String authorization) {
        return ConvLlavaGrpc.newStub(channel).withInterceptors(carrying(authorization));
    }

    ConvLlavaGrpc.ConvLlavaBlockingStub blockingStub(String authorization) {
        return ConvLlavaGrpc.newBlockingStub(channel).withInterceptors(carrying(authorization));
    }

    private static ClientInterceptor carrying(String authorization) {
        Metadata headers = new Metadata();
        if (authorization != null) {
            headers.put(BearerTokens.AUTHORIZATION, authorization);
        }
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    /** Cancels what still runs: the HTTP server has closed its connections before. */
    @Override
    public void close() {
        channel.shutdownNow();
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }
}
