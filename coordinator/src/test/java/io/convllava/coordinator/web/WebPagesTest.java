package io.convllava.coordinator.web;

import com.google.gson.JsonObject;
import io.convllava.common.transport.BearerTokens;
import io.convllava.coordinator.http.HttpRoutes;
import io.convllava.coordinator.http.HttpServer;
import io.convllava.coordinator.http.HttpServerOptions;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The web pages on an HTTP server with bearer tokens: public while the API beside them is not, every file they link to
 * served from the jar with its content type and the page's security headers, nothing the policy would block written
 * into them (inline scripts, style attributes, other origins), revalidation by ETag, and no other file reachable.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebPagesTest {
    private static final Pattern LINKED = Pattern.compile("(?:src|href)=\"(/[^\"]*)\"");

    private HttpServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "web-pages-test-token\n");
        HttpRoutes routes = new WebPages().addTo(new HttpRoutes(BearerTokens.load(tokens)))
                .add(HttpMethod.GET, "/v1/models", e -> e.respondJson(HttpResponseStatus.OK, new JsonObject()));
        server = HttpServer.bind("test-web", "127.0.0.1", 0, "--http-port", HttpServerOptions.DEFAULTS, null)
                .serve(routes);
    }

    @AfterAll
    void stop() {
        server.close();
    }

    @Test
    void thePagesArePublicAndCarryTheirPolicy() throws Exception {
        for (String page : List.of("/", "/cluster")) {
            HttpResponse<String> answer = get(page, null);
            assertEquals(200, answer.statusCode(), page);
            assertEquals("text/html; charset=utf-8", header(answer, "Content-Type"));
            assertEquals(WebPages.CONTENT_SECURITY_POLICY, header(answer, "Content-Security-Policy"));
            assertEquals("nosniff", header(answer, "X-Content-Type-Options"));
            assertEquals("DENY", header(answer, "X-Frame-Options"));
            assertEquals("no-cache", header(answer, "Cache-Control"));
        }
        assertEquals(401, get("/v1/models", null).statusCode(), "the API beside them needs the token");
    }

    @Test
    void everyLinkedFileIsServedWithItsTypeAndNothingTheyHoldBreaksThePolicy() throws Exception {
        for (String page : List.of("/", "/cluster")) {
            String html = get(page, null).body();
            assertFalse(html.contains("style="), page + " has no style attribute (the policy blocks them)");
            assertFalse(Pattern.compile("<script(?![^>]*\\ssrc=)").matcher(html).find(),
                    page + " has no inline script");
            assertFalse(html.contains("http://") || html.contains("https://"), page + " loads nothing from elsewhere");
            List<String> linked = new ArrayList<>();
            Matcher m = LINKED.matcher(html);
            while (m.find()) {
                linked.add(m.group(1));
            }
            assertTrue(linked.containsAll(List.of("/web/style.css", "/web/api.js")), page + " links " + linked);
            for (String path : linked) {
                HttpResponse<String> file = get(path, null);
                assertEquals(200, file.statusCode(), path);
                String type = header(file, "Content-Type");
                assertTrue(path.endsWith(".js") ? type.equals("text/javascript; charset=utf-8")
                        : path.endsWith(".css") ? type.equals("text/css; charset=utf-8")
                        : path.endsWith(".svg") ? type.equals("image/svg+xml")
                        : type.startsWith("text/html"), path + " as " + type);
                String elsewhere = file.body().replace("http://www.w3.org/2000/svg", ""); // a namespace, not a call
                assertFalse(elsewhere.contains("http://") || elsewhere.contains("https://"),
                        path + " loads nothing from elsewhere");
            }
        }
    }

    @Test
    void anUnchangedFileIsNotSentAgain() throws Exception {
        HttpResponse<String> first = get("/web/chat.js", null);
        String etag = header(first, "ETag");
        assertTrue(etag.matches("\"[0-9a-f]{24}\""), etag);
        HttpResponse<String> again = get("/web/chat.js", etag);
        assertEquals(304, again.statusCode());
        assertEquals("", again.body());
        assertEquals(200, get("/web/chat.js", "\"something-else\"").statusCode());
    }

    @Test
    void noOtherFileIsReachable() throws Exception {
        for (String path : List.of("/web/nope.js", "/web/../WebPages.class", "/web/", "/web/io/convllava/x.js",
                "/index.html")) {
            HttpResponse<String> answer = get(path, null);
            assertEquals(404, answer.statusCode(), path + " answered " + answer.body());
            assertTrue(answer.body().contains("\"error\""), answer.body());
        }
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }

    private HttpResponse<String> get(String path, String ifNoneMatch) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url() + path));
        if (ifNoneMatch != null) {
            request.header("If-None-Match", ifNoneMatch);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String header(HttpResponse<?> answer, String name) {
        return answer.headers().firstValue(name).orElse("");
    }
}
