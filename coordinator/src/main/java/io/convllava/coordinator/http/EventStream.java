package io.convllava.coordinator.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;

import java.nio.charset.StandardCharsets;

/**
 * A response of server-sent events ({@code text/event-stream}), opened by {@link HttpExchange#openEventStream}: each
 * {@link #send} is one {@code data:} event, written and flushed at once; {@link #end} finishes the response. Calls
 * must come from one thread at a time; after the end, or after the client went away, they do nothing.
 */
public final class EventStream {
    private final HttpExchange exchange;
    private final Channel channel;

    EventStream(HttpExchange exchange, Channel channel) {
        this.exchange = exchange;
        this.channel = channel;
    }

    /** One event whose data is {@code data} (a single line, such as compact JSON). */
    public void send(String data) {
        if (data.indexOf('\n') >= 0 || data.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("an event's data is one line; got a line break in it");
        }
        if (!exchange.isStreaming()) {
            return;
        }
        channel.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer("data: " + data + "\n\n",
                StandardCharsets.UTF_8)));
    }

    /** Ends the response; the connection then serves its next request (or closes, if the client asked so). */
    public void end() {
        if (exchange.endStream()) {
            exchange.finish(channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
        }
    }
}
