package io.convllava.coordinator.httpapi;

import com.sun.net.httpserver.HttpServer;
import io.convllava.common.testing.Fixtures;
import io.convllava.coordinator.http.HttpError;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Image URLs downloaded from a real HTTP server on loopback: the bytes when all is well, a 400 naming the field and
 * the reason when the image is missing, too large (declared or sent), slow, or the server is not there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageFetcherTest {
    private static final int MAX = 100_000;
    private static final String PARAM = "messages[0].content[1].image_url.url";
    private final ImageFetcher fetcher = new ImageFetcher(Duration.ofSeconds(2), Duration.ofSeconds(2), MAX);
    private HttpServer server;
    private byte[] png;

    @BeforeAll
    void start() throws IOException {
        png = Files.readAllBytes(Fixtures.shapesModel().resolve("samples/sample-count-0.png"));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/count.png", e -> {
            e.sendResponseHeaders(200, png.length);
            try (OutputStream out = e.getResponseBody()) {
                out.write(png);
            }
        });
        server.createContext("/declared-large.png", e -> {
            e.sendResponseHeaders(200, MAX + 1);
            e.close();
        });
        server.createContext("/chunked-large.png", e -> {
            e.sendResponseHeaders(200, 0); // chunked: the length is only known as the bytes come
            try (OutputStream out = e.getResponseBody()) {
                for (int i = 0; i < 20; i++) {
                    out.write(new byte[10_000]);
                }
            } catch (IOException clientGaveUp) {
                // the fetcher hangs up once past its limit
            }
        });
        server.createContext("/slow.png", e -> {
            e.sendResponseHeaders(200, png.length);
            try (OutputStream out = e.getResponseBody()) {
                out.write(png, 0, 10);
                out.flush();
                Thread.sleep(5_000);
            } catch (InterruptedException | IOException ignored) {
                // the fetcher has given up by then
            }
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    @AfterAll
    void stop() {
        server.stop(0);
    }

    @Test
    void downloadsAnImage() {
        assertArrayEquals(png, fetcher.fetch(url("/count.png"), PARAM));
    }

    @Test
    void refusesWhatIsMissingTooLargeOrTooSlow() throws IOException {
        assertRefused("/missing.png", "the server answered HTTP 404");
        assertRefused("/declared-large.png", "it is " + (MAX + 1) + " bytes or more; images are limited to " + MAX);
        assertRefused("/chunked-large.png", "bytes or more; images are limited to " + MAX);
        long start = System.nanoTime();
        assertRefused("/slow.png", "it did not arrive within 2 s");
        assertTrue(System.nanoTime() - start < 4_000_000_000L, "given up at the time limit, not the server's pace");
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        HttpError e = assertThrows(HttpError.class, () -> fetcher.fetch(URI.create("http://127.0.0.1:" + closed
                + "/a.png"), PARAM));
        assertTrue(e.getMessage().startsWith(PARAM + ": the image at http://127.0.0.1:" + closed + "/a.png could not"
                + " be fetched: the download failed"), e.getMessage());
    }

    private void assertRefused(String path, String why) {
        HttpError e = assertThrows(HttpError.class, () -> fetcher.fetch(url(path), PARAM));
        assertEquals(400, e.status().code());
        assertEquals(PARAM, e.param());
        assertTrue(e.getMessage().startsWith(PARAM + ": the image at " + url(path) + " could not be fetched: "),
                e.getMessage());
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    private URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }
}
