package io.convllava.coordinator.httpapi;

import io.convllava.coordinator.http.EventStream;
import io.convllava.coordinator.http.HttpExchange;
import io.convllava.proto.v1.Delta;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateResponse;
import io.grpc.stub.StreamObserver;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Answers a chat completion from the events of its Generate call: as one {@code chat.completion} object, or as
 * server-sent {@code chat.completion.chunk} events ending with {@code data: [DONE]}. A failure before anything was
 * sent is the HTTP error response; after the stream began, its last event. Nothing is sent once the client has gone.
 */
abstract class CompletionObserver implements StreamObserver<GenerateResponse> {
    protected final HttpExchange exchange;
    protected final CompletionJson json;

    private CompletionObserver(HttpExchange exchange, CompletionJson json) {
        this.exchange = exchange;
        this.json = json;
    }

    static CompletionObserver answering(ChatRequest request, HttpExchange exchange, CompletionJson json) {
        return request.stream() ? new Streamed(exchange, json, request.includeUsage()) : new Whole(exchange, json);
    }

    @Override
    public final void onNext(GenerateResponse event) {
        if (event.hasDelta()) {
            delta(event.getDelta());
        } else if (event.hasFinal()) {
            finished(event.getFinal());
        }
    }

    @Override
    public final void onError(Throwable failure) {
        if (!exchange.isClientGone()) {
            exchange.fail(StatusErrors.toHttp(failure));
        }
    }

    @Override
    public final void onCompleted() {
        // the Final event has answered
    }

    abstract void delta(Delta delta);

    abstract void finished(Final answer);

    /** The whole answer at once. */
    private static final class Whole extends CompletionObserver {
        Whole(HttpExchange exchange, CompletionJson json) {
            super(exchange, json);
        }

        @Override
        void delta(Delta delta) {
            // the Final event carries the whole text
        }

        @Override
        void finished(Final answer) {
            exchange.respondJson(HttpResponseStatus.OK, json.completion(answer));
        }
    }

    /** Server-sent events: the role, each piece of text as it is decoded, the finish, usage if asked, [DONE]. */
    private static final class Streamed extends CompletionObserver {
        private final boolean includeUsage;
        private EventStream events;

        Streamed(HttpExchange exchange, CompletionJson json, boolean includeUsage) {
            super(exchange, json);
            this.includeUsage = includeUsage;
        }

        @Override
        void delta(Delta delta) {
            if (!delta.getText().isEmpty()) {
                events().send(json.textChunk(delta.getText(), includeUsage).toString());
            }
        }

        @Override
        void finished(Final answer) {
            EventStream stream = events();
            stream.send(json.finishChunk(answer, includeUsage).toString());
            if (includeUsage) {
                stream.send(json.usageChunk(answer).toString());
            }
            stream.send("[DONE]");
            stream.end();
        }

        /**
         * The stream, opened with the first event: until then an error can still be a proper HTTP status (a refused
         * request fails before its first token).
         */
        private EventStream events() {
            if (events == null) {
                events = exchange.openEventStream();
                events.send(json.roleChunk(includeUsage).toString());
            }
            return events;
        }
    }
}
