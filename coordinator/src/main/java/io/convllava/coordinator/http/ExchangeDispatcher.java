package io.convllava.coordinator.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs the handler of each request of one connection on a worker thread, one request at a time: a request sent
 * before the previous answer is complete (HTTP pipelining) waits for it. Tells the exchange in progress when the
 * connection closes, and closes a connection that stays idle between requests.
 */
final class ExchangeDispatcher extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ExchangeDispatcher.class);
    /** Requests a connection may send ahead of the answers; more close it. */
    private static final int MAX_PIPELINED = 8;

    private final Executor workers;
    private final ExchangeTracker tracker;
    private final Deque<ReceivedRequest> waiting = new ArrayDeque<>();
    /** Touched on the connection's event loop only. */
    private HttpExchange current;

    ExchangeDispatcher(Executor workers, ExchangeTracker tracker) {
        this.workers = workers;
        this.tracker = tracker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ReceivedRequest received)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (current == null) {
            start(ctx, received);
        } else if (waiting.size() < MAX_PIPELINED) {
            waiting.add(received);
        } else {
            received.request().release();
            LOG.debug("{}: more than {} pipelined requests; closing", ctx.channel().remoteAddress(), MAX_PIPELINED);
            ctx.close();
        }
    }

    private void start(ChannelHandlerContext ctx, ReceivedRequest received) {
        HttpExchange exchange = new HttpExchange(ctx.channel(), received.request(),
                () -> ctx.executor().execute(() -> next(ctx)));
        current = exchange;
        tracker.started();
        try {
            workers.execute(() -> run(received, exchange));
        } catch (RejectedExecutionException e) {
            received.request().release();
            exchange.fail(HttpError.unavailable("the HTTP API is busy (every worker has requests waiting): retry in"
                    + " a moment"));
        }
    }

    private static void run(ReceivedRequest received, HttpExchange exchange) {
        try {
            received.route().handler().handle(exchange);
        } catch (HttpError e) {
            exchange.fail(e);
        } catch (Exception | Error e) {
            LOG.error("{} {} failed", exchange.method(), exchange.path(), e);
            exchange.fail(HttpError.internal("the coordinator failed to answer: " + e));
        } finally {
            received.request().release();
        }
    }

    /** The current exchange ended: start the next waiting one. */
    private void next(ChannelHandlerContext ctx) {
        tracker.ended();
        current = null;
        ReceivedRequest following = waiting.poll();
        if (following != null && ctx.channel().isActive()) {
            start(ctx, following);
        } else if (following != null) {
            following.request().release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (current != null) {
            current.connectionClosed();
        }
        waiting.forEach(r -> r.request().release());
        waiting.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent && current == null) {
            ctx.close(); // idle between requests: a kept-alive connection nobody uses
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("{}: connection failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
