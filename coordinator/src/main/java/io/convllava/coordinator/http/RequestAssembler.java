package io.convllava.coordinator.http;

import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Turns the decoded parts of a request into one {@link ReceivedRequest}, refusing it as early as possible: its route,
 * method and token are checked on the request line and headers, before any of the body is kept (404, 405, 401), and a
 * body over the limit is refused as soon as its length says so or its bytes pass it (413). A refused request's body
 * is read and dropped, so that the client gets to read the answer, then the connection is closed. A client silent for
 * the idle timeout in the middle of a request gets 408.
 */
final class RequestAssembler extends ChannelInboundHandlerAdapter {
    /** A refused body is dropped up to this many times the limit; a client sending more is cut off. */
    private static final int DISCARD_FACTOR = 2;

    private final Supplier<HttpRoutes> routes;
    private final int maxBodyBytes;
    private final long idleSeconds;
    private HttpRequest head;
    private HttpRoutes.Route route;
    private CompositeByteBuf body;
    private boolean discarding;
    private long discarded;

    /** @param routes the routes now; throws the refusal (503) while the server is starting or stopping */
    RequestAssembler(Supplier<HttpRoutes> routes, int maxBodyBytes, long idleSeconds) {
        this.routes = routes;
        this.maxBodyBytes = maxBodyBytes;
        this.idleSeconds = idleSeconds;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpRequest request) {
                begin(ctx, request);
            }
            if (msg instanceof HttpContent content) {
                append(ctx, content);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void begin(ChannelHandlerContext ctx, HttpRequest request) {
        reset();
        discarding = false;
        if (request.decoderResult().isFailure()) {
            refuse(ctx, malformed(request.decoderResult().cause()), false);
            return;
        }
        try {
            route = routes.get().resolve(request.method(), new QueryStringDecoder(request.uri()).path(),
                    request.headers().get(HttpHeaderNames.AUTHORIZATION));
        } catch (HttpError e) {
            refuse(ctx, e, !(request instanceof LastHttpContent));
            return;
        }
        long declared = HttpUtil.getContentLength(request, -1L);
        if (declared > maxBodyBytes) {
            refuse(ctx, tooLarge(declared), !(request instanceof LastHttpContent));
            return;
        }
        if (HttpUtil.is100ContinueExpected(request)) {
            request.headers().remove(HttpHeaderNames.EXPECT);
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        head = request;
        body = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
    }

    private void append(ChannelHandlerContext ctx, HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (discarding) {
            discarded += content.content().readableBytes();
            if (last || discarded > (long) DISCARD_FACTOR * maxBodyBytes) {
                ctx.close(); // the refusal is written; now that the client has sent its body, hang up
            }
            return;
        }
        if (head == null) {
            return; // the rest of a request refused without a body to drop
        }
        int bytes = content.content().readableBytes();
        if ((long) body.readableBytes() + bytes > maxBodyBytes) {
            long received = (long) body.readableBytes() + bytes;
            reset();
            refuse(ctx, tooLarge(received), !last);
            return;
        }
        if (bytes > 0) {
            body.addComponent(true, content.content().retain());
        }
        if (last) {
            DefaultFullHttpRequest whole = new DefaultFullHttpRequest(head.protocolVersion(), head.method(),
                    head.uri(), body, head.headers(), ((LastHttpContent) content).trailingHeaders());
            HttpRoutes.Route accepted = route;
            body = null;
            head = null;
            route = null;
            ctx.fireChannelRead(new ReceivedRequest(whole, accepted));
        }
    }

    /**
     * Answers {@code error} and closes the connection: at once when no body follows, else once the client has sent
     * it ({@code bodyFollows}), which is read and dropped.
     */
    private void refuse(ChannelHandlerContext ctx, HttpError error, boolean bodyFollows) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, error.status(),
                Unpooled.copiedBuffer(error.toJson().toString(), StandardCharsets.UTF_8));
        error.headers().forEach((name, value) -> response.headers().set(name, value));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        HttpUtil.setContentLength(response, response.content().readableBytes());
        if (bodyFollows) {
            discarding = true;
            discarded = 0;
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private HttpError tooLarge(long bytes) {
        return HttpError.tooLarge("the request body is " + bytes + " bytes, more than the " + maxBodyBytes
                + " accepted (" + (maxBodyBytes >> 20) + " MiB: images of up to 32 MiB each as base64 data URLs)");
    }

    private static HttpError malformed(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return new HttpError(HttpResponseStatus.REQUEST_URI_TOO_LONG, "invalid_request_error",
                    "the request line is too long: " + cause.getMessage(), null, null);
        }
        if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
            return new HttpError(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "invalid_request_error",
                    "the request headers are too large: " + cause.getMessage(), null, null);
        }
        return HttpError.invalid("malformed HTTP request: " + cause.getMessage(), null);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent && discarding) {
            ctx.close();
        } else if (event instanceof IdleStateEvent && head != null) {
            reset();
            refuse(ctx, new HttpError(HttpResponseStatus.REQUEST_TIMEOUT, "invalid_request_error", "the request was"
                    + " not received: nothing arrived for " + idleSeconds + " s", null, "request_timeout"), false);
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        reset();
        ctx.fireChannelInactive();
    }

    private void reset() {
        if (body != null) {
            body.release();
            body = null;
        }
        head = null;
        route = null;
    }
}
