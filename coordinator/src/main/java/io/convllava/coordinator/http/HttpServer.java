package io.convllava.coordinator.http;

import io.convllava.common.transport.BindFailure;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An HTTP/1.1 server on Netty (HTTPS when given a TLS context) for JSON APIs and event streams: requests are checked
 * against their {@link HttpRoutes} as soon as their headers arrive, bodies are bounded, handlers run on a bounded pool
 * of worker threads, and a handler learns at once when its client closes the connection. Like the gRPC servers it can
 * listen before it has anything to serve ({@link #bind}, then {@link #serve}); until then it answers 503.
 */
public final class HttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpServer.class);

    private final String name;
    private final String host;
    private final boolean tls;
    private final HttpServerOptions options;
    private final EventLoopGroup acceptor;
    private final EventLoopGroup io;
    private final ThreadPoolExecutor workers;
    private final ChannelGroup connections;
    private final ExchangeTracker exchanges;
    private final Channel listener;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Serving serving;

    private HttpServer(String name, String host, boolean tls, HttpServerOptions options, EventLoopGroup acceptor,
                       EventLoopGroup io, ThreadPoolExecutor workers, ChannelGroup connections,
                       ExchangeTracker exchanges, Serving serving, Channel listener) {
        this.name = name;
        this.host = host;
        this.tls = tls;
        this.options = options;
        this.acceptor = acceptor;
        this.io = io;
        this.workers = workers;
        this.connections = connections;
        this.exchanges = exchanges;
        this.serving = serving;
        this.listener = listener;
    }

    /**
     * Listens on {@code host:port} (0 = any free port) and answers 503 until {@link #serve}.
     *
     * @param ssl    the TLS context (HTTPS); null = plain HTTP
     * @param option the flag that chose the port, named when it cannot be bound
     * @throws IOException saying which port on which address could not be bound and why
     */
    public static HttpServer bind(String name, String host, int port, String option, HttpServerOptions options,
                                  SslContext ssl) throws IOException {
        EventLoopGroup acceptor = new NioEventLoopGroup(1, new DefaultThreadFactory(name + "-accept", true));
        EventLoopGroup io = new NioEventLoopGroup(Math.min(4, Runtime.getRuntime().availableProcessors()),
                new DefaultThreadFactory(name + "-io", true));
        ThreadPoolExecutor workers = new ThreadPoolExecutor(options.workers(), options.workers(), 60,
                TimeUnit.SECONDS, new ArrayBlockingQueue<>(Math.max(1, options.workQueue())),
                new DefaultThreadFactory(name + "-worker", true));
        workers.allowCoreThreadTimeOut(true);
        ChannelGroup connections = new DefaultChannelGroup(name, GlobalEventExecutor.INSTANCE);
        ExchangeTracker exchanges = new ExchangeTracker();
        Serving serving = new Serving();
        ServerBootstrap bootstrap = new ServerBootstrap().group(acceptor, io).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        if (connections.size() >= options.maxConnections()) {
                            LOG.warn("{}: {} connections open already; closing one from {}", name,
                                    options.maxConnections(), channel.remoteAddress());
                            channel.close();
                            return;
                        }
                        connections.add(channel);
                        ChannelPipeline pipeline = channel.pipeline();
                        if (ssl != null) {
                            pipeline.addLast(ssl.newHandler(channel.alloc()));
                        }
                        long idle = options.idleTimeout().toSeconds();
                        pipeline.addLast(new HttpServerCodec())
                                .addLast(new IdleStateHandler(idle, 0, 0, TimeUnit.SECONDS))
                                .addLast(new RequestAssembler(serving::routes, options.maxBodyBytes(), idle))
                                .addLast(new ExchangeDispatcher(workers, exchanges));
                    }
                });
        try {
            Channel listener = bootstrap.bind(new InetSocketAddress(host, port)).sync().channel();
            HttpServer server = new HttpServer(name, host, ssl != null, options, acceptor, io, workers, connections,
                    exchanges, serving, listener);
            LOG.info("{} bound to {}:{}", name, host, server.port());
            return server;
        } catch (Exception e) {
            acceptor.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            io.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            workers.shutdownNow();
            throw BindFailure.explain(name, host, port, option, e);
        }
    }

    /** Starts answering with {@code routes}. */
    public HttpServer serve(HttpRoutes routes) {
        serving.routes = routes;
        LOG.info("{} serving on {}", name, url());
        return this;
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** {@code http://host:port} (https with TLS), as clients reach it. */
    public String url() {
        return (tls ? "https" : "http") + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    /**
     * Stops taking connections, gives the answers in progress up to the shutdown grace to finish, then closes every
     * connection (their handlers hear that the client went away) and stops the threads.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        serving.stopping = true;
        listener.close().syncUninterruptibly();
        try {
            if (!exchanges.awaitIdle(options.shutdownGrace().toMillis())) {
                LOG.info("{}: answers still in progress after {} s are cut off", name,
                        options.shutdownGrace().toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.shutdownNow();
        acceptor.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        io.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** What requests are answered with: nothing yet (starting), the routes, or nothing any more (stopping). */
    private static final class Serving {
        private volatile HttpRoutes routes;
        private volatile boolean stopping;

        HttpRoutes routes() {
            if (stopping) {
                throw HttpError.unavailable("the coordinator is stopping: send the request to another one");
            }
            if (routes == null) {
                throw HttpError.unavailable("the coordinator is starting: retry in a moment");
            }
            return routes;
        }
    }
}
