package io.convllava.coordinator.http;

/**
 * Answers the requests of one route. It runs on one of the server's worker threads, never on a network thread, so it
 * may block briefly (parse a body, fetch an image); it may also answer later from another thread. The request body is
 * readable only until it returns. An {@link HttpError} it throws is sent as the answer; any other exception is sent
 * as a 500 and logged.
 */
@FunctionalInterface
public interface HttpHandler {
    void handle(HttpExchange exchange) throws Exception;
}
