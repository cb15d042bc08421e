package io.convllava.common.transport;

import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.convllava.common.metrics.GrpcMetrics;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Netty gRPC server (grpc-java examples' start / stop / blockUntilShutdown) with the cluster's message limit and
 * keepalive, a fixed handler pool, the standard health service, server reflection (v1 and v1alpha, for grpcurl and
 * similar tools), call metrics ({@link GrpcMetrics}) and request ids from the {@value RequestIds#HEADER_NAME}
 * header. It can listen before its services exist ({@link #bind}, then {@link #serve}), so a node finds a busy port
 * in milliseconds instead of after loading its model; until then calls are answered UNAVAILABLE and health says
 * NOT_SERVING. Health tells the truth through {@link #readiness()}: the node's runtime adds its own conditions
 * (ZooKeeper connected, a complete pipeline); the {@value #LIVENESS} service says only that the process answers.
 */
public final class GrpcServer implements AutoCloseable {
    /** HTTP/2 streams one client connection may have open at once. */
    static final int MAX_CALLS_PER_CONNECTION = 512;
    /** Calls (health checks aside) a server has in flight at once; beyond, RESOURCE_EXHAUSTED at once. */
    static final int MAX_CALLS_IN_FLIGHT = 4096;
    /** Health service name that is SERVING from the moment the port is bound until the server stops. */
    public static final String LIVENESS = "liveness";
    /** The readiness condition of {@link #serve}: the services exist (the model is loaded). */
    private static final String STARTED = "started";
    private static final Logger LOG = LoggerFactory.getLogger(GrpcServer.class);

    private final String name;
    private final String host;
    private final Server server;
    private final ExecutorService executor;
    private final HealthStatusManager health;
    private final Readiness readiness;
    private final StartingHandlerRegistry services;
    /** Methods whose handlers never block: they run on the transport thread, without a hand-off to the executor. */
    private final Set<String> direct;

    private GrpcServer(String name, String host, Server server, ExecutorService executor, Set<String> direct,
                       HealthStatusManager health,
                       StartingHandlerRegistry services) {
        this.name = name;
        this.host = host;
        this.server = server;
        this.executor = executor;
        this.direct = direct;
        this.health = health;
        this.services = services;
        this.readiness = new Readiness(name, health, services::serviceNames);
        readiness.set(STARTED, false, name + " is loading its model or joining the cluster");
    }

    /** Binds {@code host:port} (port 0 = any free port) and starts serving {@code services}. */
    public static GrpcServer start(String name, String host, int port, TransportOptions options,
                                   List<BindableService> services) throws IOException {
        GrpcServer server = bind(name, host, port, options);
        try {
            return server.serve(services);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /**
     * Listens on {@code host:port} (port 0 = any free port) and answers every call UNAVAILABLE until
     * {@link #serve} is called.
     *
     * @throws IOException saying plainly which port on which address could not be bound and why
     */
    public static GrpcServer bind(String name, String host, int port, TransportOptions options) throws IOException {
        ExecutorService executor = Executors.newFixedThreadPool(options.serverThreads(), threadsNamed(name));
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", ServingStatus.NOT_SERVING);
        health.setStatus(LIVENESS, ServingStatus.SERVING);
        StartingHandlerRegistry services = new StartingHandlerRegistry(name + " is starting (loading its model or"
                + " joining the cluster): retry in a moment");
        Set<String> direct = ConcurrentHashMap.newKeySet();
        // a health check never blocks, and must answer even while every server thread is busy
        direct.add(HealthGrpc.getCheckMethod().getFullMethodName());
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .executor(executor)
                .callExecutor(new ServerCallExecutorSupplier() {
                    @Override
                    public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
                        return direct.contains(call.getMethodDescriptor().getFullMethodName())
                                ? MoreExecutors.directExecutor() : null;
                    }
                })
                .maxInboundMessageSize(options.maxMessageBytes())
                // bounds: streams per connection (HTTP/2 flow control makes more wait at the client), calls in flight
                .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
                .intercept(new CallLimit(name, MAX_CALLS_IN_FLIGHT))
                .intercept(RequestIds.fromHeader())
                .intercept(GrpcMetrics.server())
                .keepAliveTime(options.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(options.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
                // clients ping as often as we do; the 5-minute default would answer them with GOAWAY
                .permitKeepAliveTime(options.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .addService(ProtoReflectionService.newInstance())
                .fallbackHandlerRegistry(services);
        if (options.tls() != null) {
            builder.sslContext(options.tls().serverContext());
        }
        try {
            Server server = builder.build().start();
            LOG.info("{} bound to {}:{}", name, host, server.getPort());
            return new GrpcServer(name, host, server, executor, direct, health, services);
        } catch (IOException e) {
            executor.shutdownNow();
            throw BindFailure.explain(name, host, port, e);
        } catch (RuntimeException e) {
            executor.shutdownNow();
            throw e;
        }
    }

    /**
     * Runs the handlers of these methods (full names, e.g. {@code convllava.v1.LlmNode/Forward}) on the transport
     * thread that received the call, saving a thread hand-off per call: only for handlers that never block.
     */
    public GrpcServer runDirectly(Set<String> fullMethodNames) {
        direct.addAll(fullMethodNames);
        return this;
    }

    /** Starts answering calls with {@code services} (once); health turns SERVING unless another condition fails. */
    public GrpcServer serve(List<BindableService> services) {
        this.services.install(services);
        readiness.set(STARTED, true, null);
        LOG.info("{} serving on {}", name, address());
        return this;
    }

    /** What the health service reports, by the conditions the node's runtime sets. */
    public Readiness readiness() {
        return readiness;
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
        readiness.terminate();
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
