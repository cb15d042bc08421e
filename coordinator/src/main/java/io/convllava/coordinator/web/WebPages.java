package io.convllava.coordinator.web;

import io.convllava.coordinator.http.HttpError;
import io.convllava.coordinator.http.HttpExchange;
import io.convllava.coordinator.http.HttpRoutes;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The web chat page ({@code GET /}) and the cluster page ({@code GET /cluster}) with their scripts and styles
 * ({@code GET /web/<name>}), served from this jar's resources: nothing is fetched from elsewhere, so the pages work
 * offline. They are public routes: the pages hold no data, and every API call they make sends the bearer token the
 * user typed in (kept in the tab's sessionStorage). Each answer forbids everything the pages do not do (a
 * Content-Security-Policy without inline scripts or styles, no framing, no sniffing) and is revalidated by its ETag,
 * so that an upgraded coordinator never leaves an old script in a browser's cache.
 */
public final class WebPages {
    /**
     * Scripts, styles and API calls from this origin only; images also from the data and blob URLs of pictures the
     * user picked.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self';"
            + " img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none';"
            + " frame-ancestors 'none'";

    private static final String RESOURCES = "/io/convllava/coordinator/web/";
    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml");

    private final Map<String, Asset> assets = new LinkedHashMap<>();

    private record Asset(String contentType, byte[] body, String etag) {
    }

    /** Reads every asset now: a jar that lacks one fails at start-up, not when a browser asks. */
    public WebPages() {
        for (String name : new String[] {"chat.html", "cluster.html", "style.css", "api.js", "chat.js",
                "cluster.js", "favicon.svg"}) {
            assets.put(name, load(name));
        }
    }

    /** Adds {@code GET /}, {@code GET /cluster} and {@code GET /web/*} to {@code routes}, public. */
    public HttpRoutes addTo(HttpRoutes routes) {
        return routes.addPublic(HttpMethod.GET, "/", exchange -> send(exchange, "chat.html"))
                .addPublic(HttpMethod.GET, "/cluster", exchange -> send(exchange, "cluster.html"))
                .addPublic(HttpMethod.GET, "/web/*", exchange -> send(exchange,
                        exchange.path().substring("/web/".length())));
    }

    private void send(HttpExchange exchange, String name) {
        Asset asset = assets.get(name);
        if (asset == null) {
            throw HttpError.notFound("no page asset '" + name + "' here: the pages are / (chat) and /cluster",
                    "unknown_url");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("X-Frame-Options", "DENY");
        headers.put("Referrer-Policy", "no-referrer");
        headers.put("Cache-Control", "no-cache"); // kept, but asked again each time: a 304 while unchanged
        headers.put("ETag", asset.etag());
        if (asset.etag().equals(exchange.header("If-None-Match"))) {
            exchange.respond(HttpResponseStatus.NOT_MODIFIED, asset.contentType(), new byte[0], headers);
        } else {
            exchange.respond(HttpResponseStatus.OK, asset.contentType(), asset.body(), headers);
        }
    }

    private static Asset load(String name) {
        String type = CONTENT_TYPES.get(name.substring(name.lastIndexOf('.') + 1));
        try (InputStream in = WebPages.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null || type == null) {
                throw new IllegalStateException("the web page asset " + RESOURCES + name
                        + " is missing from the coordinator's jar (or has no known content type)");
            }
            byte[] body = in.readAllBytes();
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
            return new Asset(type, body, "\"" + HexFormat.of().formatHex(digest, 0, 12) + "\"");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the web page asset " + RESOURCES + name, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
