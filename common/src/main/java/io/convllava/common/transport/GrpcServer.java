package io.convllava.common.transport;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A started Netty gRPC server (grpc-java examples' start / stop / blockUntilShutdown) with the cluster's message
 * limit and keepalive, a fixed handler pool, and the standard health service (SERVING while up).
 */
public final class GrpcServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GrpcServer.class);

    private final String name;
    private final String host;
    private final Server server;
    private final ExecutorService executor;
    private final HealthStatusManager health;

    private GrpcServer(String name, String host, Server server, ExecutorService executor, HealthStatusManager health) {
        this.name = name;
        this.host = host;
        this.server = server;
        this.executor = executor;
        this.health = health;
    }

    /** Binds {@code host:port} (port 0 = any free port) and starts serving {@code services}. */
    public static GrpcServer start(String name, String host, int port, TransportOptions options,
                                   List<BindableService> services) throws IOException {
        ExecutorService executor = Executors.newFixedThreadPool(options.serverThreads(), threadsNamed(name));
        HealthStatusManager health = new HealthStatusManager();
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .executor(executor)
                .maxInboundMessageSize(options.maxMessageBytes())
                .keepAliveTime(options.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(options.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
                // clients ping as often as we do; the 5-minute default would answer them with GOAWAY
                .permitKeepAliveTime(options.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .addService(health.getHealthService());
        services.forEach(builder::addService);
        Server server;
        try {
            server = builder.build().start();
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            throw e;
        }
        health.setStatus("", ServingStatus.SERVING);
        LOG.info("{} listening on {}:{}", name, host, server.getPort());
        return new GrpcServer(name, host, server, executor, health);
    }

    /** The bound port (the real one when started with port 0). */
    public int port() {
        return server.getPort();
    }

    /** {@code host:port} as clients should dial it. */
    public String address() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    /** Stops the server (and this JVM's wait in {@link #blockUntilShutdown()}) when the JVM exits. */
    public GrpcServer stopOnJvmShutdown() {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("*** shutting down " + name + " since the JVM is shutting down");
            try {
                stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name + "-shutdown"));
        return this;
    }

    /** Refuses new calls, gives running ones up to 30 s, then cancels the rest. */
    public void stop() throws InterruptedException {
        health.enterTerminalState();
        server.shutdown();
        if (!server.awaitTermination(30, TimeUnit.SECONDS)) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        executor.shutdownNow();
    }

    public void blockUntilShutdown() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory threadsNamed(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
