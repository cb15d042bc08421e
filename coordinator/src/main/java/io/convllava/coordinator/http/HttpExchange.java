package io.convllava.coordinator.http;

import com.google.gson.JsonElement;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One request and its response. The handler answers once: a whole response ({@link #respond}, {@link #respondJson},
 * {@link #fail}) or an event stream ({@link #openEventStream}). Answering is thread-safe; what comes after the first
 * answer, or after the client went away, is dropped. {@link #onClientGone} tells the handler when the client closed
 * the connection before the response was complete, so that it can stop the work.
 */
public final class HttpExchange {
    private static final Logger LOG = LoggerFactory.getLogger(HttpExchange.class);

    private enum State { WAITING, STREAMING, DONE }

    private final Channel channel;
    private final FullHttpRequest request;
    private final String path;
    private boolean keepAlive;
    private final Runnable ended;
    private final List<Runnable> goneListeners = new ArrayList<>();
    private State state = State.WAITING;
    private EventStream events;
    private boolean gone;
    private boolean endedOnce;

    /** @param ended called once, when the response is written or the client went away */
    HttpExchange(Channel channel, FullHttpRequest request, Runnable ended) {
        this.channel = channel;
        this.request = request;
        this.path = new QueryStringDecoder(request.uri()).path();
        this.keepAlive = HttpUtil.isKeepAlive(request);
        this.ended = ended;
    }

    public HttpMethod method() {
        return request.method();
    }

    /** The decoded path, without the query. */
    public String path() {
        return path;
    }

    /** A request header's value, null when absent. */
    public String header(CharSequence name) {
        return request.headers().get(name);
    }

    /** The request body; readable only while the handler runs. */
    public InputStream body() {
        return new ByteBufInputStream(request.content().duplicate());
    }

    public int bodyBytes() {
        return request.content().readableBytes();
    }

    /** A whole response with this body. */
    public void respond(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
        synchronized (this) {
            if (state != State.WAITING) {
                LOG.debug("{} {}: a second answer ({}) dropped", method(), path, status);
                return;
            }
            state = State.DONE;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        headers.forEach((name, value) -> response.headers().set(name, value));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        HttpUtil.setContentLength(response, body.length);
        finish(write(response));
    }

    public void respondJson(HttpResponseStatus status, JsonElement json) {
        respondJson(status, json, Map.of());
    }

    public void respondJson(HttpResponseStatus status, JsonElement json, Map<String, String> headers) {
        respond(status, "application/json", json.toString().getBytes(StandardCharsets.UTF_8), headers);
    }

    /**
     * Answers with the error: as the response, or, once an event stream is open, as its last event (the status line
     * is gone by then).
     */
    public void fail(HttpError error) {
        EventStream stream;
        synchronized (this) {
            stream = state == State.STREAMING ? events : null;
        }
        if (stream == null) {
            respondJson(error.status(), error.toJson(), error.headers());
            return;
        }
        stream.send(error.toJson().toString());
        stream.end();
    }

    /** Starts a 200 response of server-sent events. */
    public EventStream openEventStream() {
        synchronized (this) {
            if (state != State.WAITING) {
                throw new IllegalStateException(method() + " " + path + " is already answered");
            }
            state = State.STREAMING;
            events = new EventStream(this, channel);
        }
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpHeaders headers = response.headers();
        headers.set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        headers.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        headers.set("X-Accel-Buffering", "no"); // a proxy in front must not hold the events back
        if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            keepAlive = false; // no chunks in HTTP/1.0: the stream ends when the connection closes
        } else {
            HttpUtil.setTransferEncodingChunked(response, true);
        }
        write(response);
        return events;
    }

    synchronized boolean isStreaming() {
        return state == State.STREAMING;
    }

    /** Whether the stream was open and is now ended (false when it had ended already). */
    synchronized boolean endStream() {
        if (state != State.STREAMING) {
            return false;
        }
        state = State.DONE;
        return true;
    }

    /**
     * Runs {@code listener} when the client closes the connection before the response is complete (at once, if it
     * already has). Not called once the response is written.
     */
    public void onClientGone(Runnable listener) {
        boolean now;
        synchronized (this) {
            now = gone;
            if (!now) {
                goneListeners.add(listener);
            }
        }
        if (now) {
            listener.run();
        }
    }

    public synchronized boolean isClientGone() {
        return gone;
    }

    /** The connection closed: if the response was not complete, the client went away. */
    void connectionClosed() {
        List<Runnable> listeners;
        synchronized (this) {
            if (gone || endedOnce) {
                return;
            }
            gone = true;
            listeners = List.copyOf(goneListeners);
            goneListeners.clear();
        }
        LOG.debug("{} {}: the client went away before the response was complete", method(), path);
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                LOG.warn("{} {}: stopping the work of a request whose client went away failed", method(), path, e);
            }
        }
        endOnce();
    }

    /** After the last write of the response: closes the connection unless it is kept alive, then ends. */
    void finish(ChannelFuture lastWrite) {
        lastWrite.addListener(f -> {
            if (!keepAlive || !f.isSuccess()) {
                channel.close();
            }
            synchronized (this) {
                goneListeners.clear(); // complete: nothing left to stop
            }
            endOnce();
        });
    }

    private ChannelFuture write(HttpResponse response) {
        HttpUtil.setKeepAlive(response, keepAlive);
        return channel.writeAndFlush(response);
    }

    private void endOnce() {
        synchronized (this) {
            if (endedOnce) {
                return;
            }
            endedOnce = true;
        }
        ended.run();
    }
}
