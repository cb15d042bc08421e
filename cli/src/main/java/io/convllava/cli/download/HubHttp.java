package io.convllava.cli.download;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.ToIntFunction;

/**
 * The HTTP side of talking to the Hub: every request carries the user agent, asks for the bytes as stored
 * ({@code Accept-Encoding: identity}) and carries the token only when it goes to the endpoint's own origin; redirects
 * are followed by hand so that a redirect to a CDN never takes the token along. Requests for metadata are retried on
 * lost connections, timeouts and busy servers.
 */
final class HubHttp {
    private static final int MAX_REDIRECTS = 10;
    /** The most a metadata answer (the API's JSON) may be: a repository of 100,000 files lists in about 10 MB. */
    static final int MAX_TEXT_BYTES = 64 << 20;
    private static final String USER_AGENT = "convllava/"
            + java.util.Objects.requireNonNullElse(HubHttp.class.getPackage().getImplementationVersion(), "dev")
            + "; java/" + Runtime.version().feature();

    private final HttpClient client;
    private final HubAccess access;
    private final TransferSettings settings;

    HubHttp(HubAccess access, TransferSettings settings) {
        this.access = access;
        this.settings = settings;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(settings.timeout())
                .build();
    }

    HubAccess access() {
        return access;
    }

    TransferSettings settings() {
        return settings;
    }

    HttpClient client() {
        return client;
    }

    /** A request to {@code uri} with the common headers, and the token if {@code uri} is the endpoint's. */
    HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .timeout(settings.timeout())
                .header("User-Agent", USER_AGENT)
                .header("Accept-Encoding", "identity");
        if (access.token() != null && access.isEndpointOrigin(uri)) {
            b.header("Authorization", "Bearer " + access.token());
        }
        return b;
    }

    /** A small text answer: the Hub's JSON API. */
    record Text(int statusCode, HttpHeaders headers, String body) {
    }

    /** GET of a small text answer (the Hub's JSON API), following every redirect. */
    Text getText(URI uri, String what) {
        return withRetries(what, Text::statusCode, () -> {
            URI at = uri;
            for (int i = 0; ; i++) {
                HttpResponse<InputStream> r = client.send(request(at).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream body = r.body()) {
                    if (!isRedirect(r.statusCode())) {
                        byte[] bytes = body.readNBytes(MAX_TEXT_BYTES + 1);
                        if (bytes.length > MAX_TEXT_BYTES) {
                            throw new HubException(what + ": the answer from " + at + " is over "
                                    + (MAX_TEXT_BYTES >> 20) + " MiB; that is not the Hub's API");
                        }
                        return new Text(r.statusCode(), r.headers(), new String(bytes, StandardCharsets.UTF_8));
                    }
                }
                at = redirectTarget(r, i, what);
            }
        });
    }

    /**
     * HEAD of a file: redirects within the endpoint's origin (a renamed repository) are followed; a redirect to
     * another origin (a large file on the CDN) is the answer, its {@code Location} the address of the bytes.
     */
    HttpResponse<Void> head(URI uri, String what) {
        return withRetries(what, HttpResponse::statusCode, () -> {
            URI at = uri;
            for (int i = 0; ; i++) {
                HttpResponse<Void> r = client.send(request(at).method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .build(), HttpResponse.BodyHandlers.discarding());
                if (!isRedirect(r.statusCode())) {
                    return r;
                }
                URI target = redirectTarget(r, i, what);
                if (!access.isEndpointOrigin(target)) {
                    return r;
                }
                at = target;
            }
        });
    }

    static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    /** The absolute address a redirect points at. */
    static URI location(HttpResponse<?> r, String what) {
        String location = r.headers().firstValue("Location").orElseThrow(() -> new HubException(what + ": HTTP "
                + r.statusCode() + " redirect from " + r.uri() + " without a Location"));
        try {
            return r.uri().resolve(location);
        } catch (IllegalArgumentException e) {
            throw new HubException(what + ": redirect from " + r.uri() + " to a bad address '" + location + "'");
        }
    }

    private static URI redirectTarget(HttpResponse<?> r, int redirectsSoFar, String what) {
        if (redirectsSoFar + 1 >= MAX_REDIRECTS) {
            throw new HubException(what + ": more than " + MAX_REDIRECTS + " redirects, the last from " + r.uri());
        }
        return location(r, what);
    }

    /** Sleeps the pause before retry {@code retry}; an interrupt ends the download. */
    void pause(int retry) {
        Duration pause = settings.pauseBefore(retry);
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("download interrupted");
        }
    }

    private interface Call<R> {
        R send() throws IOException, InterruptedException;
    }

    /** The call, again after a pause while it fails on the way (I/O) or the server is busy; the last answer. */
    private <R> R withRetries(String what, ToIntFunction<R> status, Call<R> call) {
        for (int attempt = 0; ; attempt++) {
            try {
                R r = call.send();
                if (!HubErrors.transientStatus(status.applyAsInt(r)) || attempt >= settings.retries()) {
                    return r;
                }
            } catch (IOException e) {
                if (attempt >= settings.retries()) {
                    throw new HubException(what + ": cannot reach " + access.endpoint() + " after "
                            + (attempt + 1) + " attempts: " + describe(e), e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException("download interrupted");
            }
            pause(attempt + 1);
        }
    }

    /** An I/O failure in words: the JDK's messages alone are often empty or cryptic. */
    static String describe(IOException e) {
        String name = e.getClass().getSimpleName();
        String message = e.getMessage();
        if (e instanceof java.net.http.HttpTimeoutException) {
            return "no answer within the timeout (" + message + ")";
        }
        if (e instanceof java.net.ConnectException) {
            return "connection refused or unreachable" + (message != null ? " (" + message + ")" : "");
        }
        if (message == null || message.isBlank()) {
            return name;
        }
        return e.getClass() == IOException.class ? message : name + ": " + message;
    }
}
