package io.convllava.coordinator.httpapi;

import io.convllava.coordinator.http.HttpExchange;
import io.convllava.coordinator.http.HttpHandler;
import io.convllava.common.transport.RequestIds;
import io.grpc.Context;
import io.netty.handler.codec.http.HttpHeaderNames;

import java.time.Instant;
import java.util.UUID;

/**
 * {@code POST /v1/chat/completions}: reads the request ({@link ChatRequestReader}), runs it as a Generate call of the
 * public API in process and answers from its events ({@link CompletionObserver}). A client that goes away cancels
 * the call, which stops the generation at its next step and releases its session on every node.
 */
final class ChatCompletionsRoute implements HttpHandler {
    private final InProcessApi api;
    private final ChatRequestReader reader;
    private final String modelId;

    ChatCompletionsRoute(InProcessApi api, ChatRequestReader reader, String modelId) {
        this.api = api;
        this.reader = reader;
        this.modelId = modelId;
    }

    @Override
    public void handle(HttpExchange exchange) {
        long created = Instant.now().getEpochSecond();
        ChatRequest chat = reader.read(exchange.body());
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        CompletionObserver answer = CompletionObserver.answering(chat, exchange,
                new CompletionJson(id, created, modelId));
        Context.CancellableContext call = Context.current().withCancellation();
        exchange.onClientGone(() -> call.cancel(null)); // at once if it has gone already: the call then fails at once
        // the nodes log the request under the client's X-Request-Id when it gives one, else under the completion id
        String given = RequestIds.sanitize(exchange.header(RequestIds.HEADER_NAME));
        String requestId = given == null || given.isEmpty() ? id : given;
        call.run(() -> api.stub(exchange.header(HttpHeaderNames.AUTHORIZATION))
                .generate(chat.request().toBuilder().setRequestId(requestId).build(), answer));
    }
}
