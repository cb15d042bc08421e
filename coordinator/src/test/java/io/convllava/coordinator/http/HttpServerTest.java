package io.convllava.coordinator.http;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.transport.BearerTokens;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP server on loopback with routes of the test's own: routing, tokens, bounds and timeouts answered in OpenAI's
 * error shape, keep-alive and pipelining, event streams, and a handler hearing that its client went away.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpServerTest {
    private static final String TOKEN = "the-test-token";
    private static final int MAX_BODY = 1024;

    private HttpServer server;
    private final CountDownLatch clientGone = new CountDownLatch(1);

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, TOKEN + "\n");
        HttpRoutes routes = new HttpRoutes(BearerTokens.load(tokens))
                .add(HttpMethod.GET, "/echo", e -> e.respondJson(HttpResponseStatus.OK, json("path", e.path())))
                .add(HttpMethod.POST, "/echo", e -> e.respondJson(HttpResponseStatus.OK,
                        json("body", new String(e.body().readAllBytes()))))
                .add(HttpMethod.GET, "/models/*", e -> e.respondJson(HttpResponseStatus.OK, json("path", e.path())))
                .addPublic(HttpMethod.GET, "/public", e -> e.respondJson(HttpResponseStatus.OK, json("open", "yes")))
                .add(HttpMethod.GET, "/refuse", e -> {
                    throw HttpError.invalid("temperature must be >= 0", "temperature");
                })
                .add(HttpMethod.GET, "/boom", e -> {
                    throw new IllegalStateException("a bug");
                })
                .add(HttpMethod.GET, "/events", e -> {
                    e.onClientGone(clientGone::countDown);
                    EventStream events = e.openEventStream();
                    events.send("{\"n\":1}");
                    events.send("{\"n\":2}");
                    // never ends on its own: only the client leaving stops it
                })
                .add(HttpMethod.GET, "/short-stream", e -> {
                    EventStream events = e.openEventStream();
                    events.send("one");
                    events.end();
                    events.send("after the end: dropped");
                });
        server = HttpServer.bind("test-http", "127.0.0.1", 0, "--http-port", HttpServerOptions.DEFAULTS
                .withMaxBodyBytes(MAX_BODY).withIdleTimeout(Duration.ofSeconds(1)), null).serve(routes);
    }

    @AfterAll
    void stop() {
        server.close();
    }

    @Test
    void routesMethodsAndTokens() throws IOException {
        RawHttp.Response ok = get("/echo?x=1", TOKEN);
        assertEquals(200, ok.status());
        assertEquals("{\"path\":\"/echo\"}", ok.body());
        assertEquals("{\"path\":\"/models/some-model\"}", get("/models/some-model", TOKEN).body());
        assertEquals(200, get("/public", null).status(), "a public route takes any caller");

        assertError(get("/nowhere", TOKEN), 404, "invalid_request_error", "unknown_url", null);
        RawHttp.Response wrongMethod = request("DELETE /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                + "\r\n\r\n");
        assertError(wrongMethod, 405, "invalid_request_error", "method_not_allowed", null);
        assertEquals("GET, POST", wrongMethod.headers().get("allow"));

        RawHttp.Response noToken = get("/echo", null);
        assertError(noToken, 401, "authentication_error", "invalid_api_key", null);
        assertTrue(message(noToken).contains("needs a bearer token"), message(noToken));
        assertEquals("Bearer", noToken.headers().get("www-authenticate"));
        assertEquals("the bearer token is not accepted", message(get("/echo", "guessed")));
    }

    @Test
    void handlerErrorsAreAnsweredInOpenAisShape() throws IOException {
        RawHttp.Response refused = get("/refuse", TOKEN);
        assertError(refused, 400, "invalid_request_error", null, "temperature");
        assertEquals("temperature must be >= 0", message(refused));
        RawHttp.Response failed = get("/boom", TOKEN);
        assertError(failed, 500, "server_error", null, null);
        assertTrue(message(failed).contains("a bug"), message(failed));
    }

    @Test
    void aConnectionServesRequestsInTurnAndInOrderWhenPipelined() throws IOException {
        try (RawHttp client = new RawHttp(server.port())) {
            client.send(getRequest("/echo", TOKEN));
            assertEquals(200, client.read().status());
            client.send(getRequest("/models/a", TOKEN) + getRequest("/models/b", TOKEN)
                    + postRequest("/echo", "{\"a\":1}"));
            assertEquals("{\"path\":\"/models/a\"}", client.read().body());
            assertEquals("{\"path\":\"/models/b\"}", client.read().body());
            assertEquals("{\"body\":\"{\\\"a\\\":1}\"}", client.read().body());
        }
    }

    @Test
    void aBodyOverTheLimitIsRefusedWith413() throws IOException {
        try (RawHttp client = new RawHttp(server.port())) { // declared: refused before the body is sent
            client.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN + "\r\nContent-Length: "
                    + (MAX_BODY + 1) + "\r\nExpect: 100-continue\r\n\r\n");
            RawHttp.Response refused = client.read();
            assertError(refused, 413, "invalid_request_error", "request_too_large", null);
            assertTrue(message(refused).contains("the request body is " + (MAX_BODY + 1) + " bytes, more than the "
                    + MAX_BODY + " accepted"), message(refused));
            assertEquals("close", refused.headers().get("connection"));
        }
        try (RawHttp client = new RawHttp(server.port())) { // chunked: refused once the bytes pass the limit
            client.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            String chunk = "x".repeat(600);
            client.send(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
            client.send(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
            assertEquals(413, client.read().status());
            client.send("0\r\n\r\n");
            assertTrue(client.closedByServer(), "the connection closes once the refused body is in");
        }
    }

    @Test
    void aClientSilentInTheMiddleOfItsRequestGets408() throws IOException {
        try (RawHttp client = new RawHttp(server.port())) {
            client.send(postRequest("/echo", "{\"a\":1}").replace("{\"a\":1}", "{\""));
            long start = System.nanoTime();
            RawHttp.Response timedOut = client.read();
            assertError(timedOut, 408, "invalid_request_error", "request_timeout", null);
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(900), "after the idle timeout");
            assertTrue(client.closedByServer());
        }
    }

    @Test
    void anIdleConnectionIsClosedBetweenRequests() throws IOException {
        try (RawHttp client = new RawHttp(server.port())) {
            client.send(getRequest("/echo", TOKEN));
            assertEquals(200, client.read().status());
            assertTrue(client.closedByServer(), "closed after the idle timeout");
        }
    }

    @Test
    void anEventStreamSendsEachEventAndNothingAfterItsEnd() throws IOException {
        try (RawHttp client = new RawHttp(server.port())) {
            client.send(getRequest("/short-stream", TOKEN));
            assertEquals("HTTP/1.1 200 OK", client.line());
            String headers = readHeaders(client);
            assertTrue(headers.contains("content-type: text/event-stream"), headers);
            assertTrue(headers.contains("transfer-encoding: chunked"), headers);
            assertEquals("data: one", chunkedText(client).strip());
            assertEquals("0", client.line(), "the last chunk: nothing was sent after the end");
            client.line();
            client.send(getRequest("/echo", TOKEN));
            assertEquals(200, client.read().status(), "the connection serves the next request");
        }
    }

    @Test
    void anHttp10ClientGetsTheEventsUnchunkedUntilTheConnectionCloses() throws IOException {
        try (RawHttp client = new RawHttp(server.port())) {
            client.send(getRequest("/short-stream", TOKEN).replace("HTTP/1.1", "HTTP/1.0"));
            assertEquals("HTTP/1.1 200 OK", client.line());
            String headers = readHeaders(client);
            assertTrue(!headers.contains("transfer-encoding"), headers);
            assertEquals("data: one", client.line());
            assertEquals("", client.line());
            assertTrue(client.closedByServer(), "the end of the stream closes the connection");
        }
    }

    @Test
    void aStreamsHandlerHearsThatItsClientWentAway() throws Exception {
        try (RawHttp client = new RawHttp(server.port())) {
            client.send(getRequest("/events", TOKEN));
            assertEquals("HTTP/1.1 200 OK", client.line());
            readHeaders(client);
            assertEquals("data: {\"n\":1}", chunkedText(client).strip());
        }
        assertTrue(clientGone.await(10, TimeUnit.SECONDS), "the handler was told that the client went away");
    }

    @Test
    void untilItServesItAnswers503AndABusyPortIsNamed() throws IOException {
        try (HttpServer starting = HttpServer.bind("starting", "127.0.0.1", 0, "--http-port",
                HttpServerOptions.DEFAULTS, null)) {
            RawHttp.Response response;
            try (RawHttp client = new RawHttp(starting.port())) {
                response = client.send(getRequest("/echo", TOKEN)).read();
            }
            assertError(response, 503, "service_unavailable_error", null, null);
            assertEquals("the coordinator is starting: retry in a moment", message(response));
        }
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            IOException e = assertThrows(IOException.class, () -> HttpServer.bind("http-api", "127.0.0.1",
                    taken.getLocalPort(), "--http-port", HttpServerOptions.DEFAULTS, null));
            assertEquals("http-api: port " + taken.getLocalPort() + " on 127.0.0.1 is already in use (another process"
                    + " listens there): stop it or pick another --http-port", e.getMessage());
        }
    }

    private RawHttp.Response get(String path, String token) throws IOException {
        return request(getRequest(path, token));
    }

    private RawHttp.Response request(String text) throws IOException {
        try (RawHttp client = new RawHttp(server.port())) {
            return client.send(text).read();
        }
    }

    private static String getRequest(String path, String token) {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + (token == null ? "" : "Authorization: Bearer " + token
                + "\r\n") + "\r\n";
    }

    private static String postRequest(String path, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    private static String readHeaders(RawHttp client) throws IOException {
        StringBuilder headers = new StringBuilder();
        for (String h = client.line(); !h.isEmpty(); h = client.line()) {
            headers.append(h.toLowerCase(java.util.Locale.ROOT)).append('\n');
        }
        return headers.toString();
    }

    /** One chunk of a chunked body (of whole lines), as text. */
    private static String chunkedText(RawHttp client) throws IOException {
        int size = Integer.parseInt(client.line(), 16);
        StringBuilder text = new StringBuilder();
        while (text.length() < size) {
            text.append(client.line()).append('\n');
        }
        assertEquals("", client.line(), "the chunk's closing CRLF");
        return text.toString();
    }

    private static void assertError(RawHttp.Response r, int status, String type, String code, String param) {
        assertEquals(status, r.status(), r.body());
        assertEquals("application/json", r.headers().get("content-type"));
        JsonObject error = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
        assertEquals(type, error.get("type").getAsString());
        assertEquals(code, error.get("code").isJsonNull() ? null : error.get("code").getAsString());
        assertEquals(param, error.get("param").isJsonNull() ? null : error.get("param").getAsString());
        assertTrue(!error.get("message").getAsString().isBlank());
    }

    private static String message(RawHttp.Response r) {
        return JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error").get("message")
                .getAsString();
    }

    private static JsonObject json(String key, String value) {
        JsonObject o = new JsonObject();
        o.addProperty(key, value);
        return o;
    }
}
