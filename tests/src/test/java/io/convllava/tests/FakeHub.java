package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A local imitation of the Hugging Face Hub's file API on loopback, and of the CDN its large files redirect to
 * (another port, so another origin):
 * <ul>
 *   <li>{@code GET /api/models/ORG/NAME/revision/REV}: {@code {"id", "sha", "siblings": [{"rfilename"}]}}</li>
 *   <li>{@code HEAD|GET /ORG/NAME/resolve/REV/PATH}: {@code X-Repo-Commit}, {@code ETag}; a git file is served
 *       here (ranges too), an LFS file answers 302 to the CDN with {@code X-Linked-Etag} (its sha256) and
 *       {@code X-Linked-Size}</li>
 *   <li>{@code GET /blobs/SHA256} on the CDN, with ranges</li>
 * </ul>
 * Refusals as the Hub words them: 401 for a gated repository without the token, and for an unknown one asked
 * anonymously ({@code X-Error-Code: GatedRepo / RepoNotFound}); 404 {@code RepoNotFound}, {@code RevisionNotFound},
 * {@code EntryNotFound}. Faults on demand: a CDN transfer cut off after some bytes, one that stalls, a CDN that
 * ignores ranges. Every request is recorded.
 */
final class FakeHub implements AutoCloseable {
    /** A request as one of the servers saw it: "hub" or "cdn", its Range and Authorization headers (or null). */
    record Request(String server, String method, String path, String range, String authorization) {
    }

    private final String token;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final HttpServer hub;
    private final HttpServer cdn;
    private final Map<String, FakeRepo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> cdnBlobs = new ConcurrentHashMap<>();
    private final Map<String, Long> cutAfter = new ConcurrentHashMap<>();
    private final Map<String, Long> stallAfter = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> cdnBytesSent = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private volatile boolean cdnIgnoresRanges;

    FakeHub(String token) throws IOException {
        this.token = token;
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        hub = HttpServer.create(loopback, 0);
        cdn = HttpServer.create(loopback, 0);
        hub.createContext("/", this::hub);
        cdn.createContext("/", this::cdn);
        hub.setExecutor(executor);
        cdn.setExecutor(executor);
        hub.start();
        cdn.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    void add(FakeRepo repo) {
        repos.put(repo.id(), repo);
        for (String path : repo.files().keySet()) {
            if (FakeRepo.isLfs(path)) {
                cdnBlobs.put(repo.lfsEtag(path), repo.files().get(path));
            }
        }
    }

    /** The CDN's first transfer of the blob {@code sha256} stops after {@code bytes} bytes: the connection drops. */
    void cutOnce(String sha256, long bytes) {
        cutAfter.put(sha256, bytes);
    }

    /** The CDN's first transfer of the blob {@code sha256} sends {@code bytes} bytes, then nothing. */
    void stallOnce(String sha256, long bytes) {
        stallAfter.put(sha256, bytes);
    }

    void cdnIgnoresRanges(boolean ignore) {
        cdnIgnoresRanges = ignore;
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Bytes of the blob {@code sha256} the CDN sent, over every transfer. */
    long cdnBytesSent(String sha256) {
        AtomicLong n = cdnBytesSent.get(sha256);
        return n == null ? 0 : n.get();
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        executor.shutdownNow();
    }

    private void hub(HttpExchange x) throws IOException {
        try (x) {
            record(x, "hub");
            String raw = x.getRequestURI().getRawPath();
            boolean api = raw.startsWith("/api/models/");
            String[] parts = (api ? raw.substring("/api/models/".length()) : raw.substring(1)).split("/", api ? 4 : 5);
            if (parts.length < 4 || !parts[2].equals(api ? "revision" : "resolve") || !api && parts.length < 5) {
                error(x, 404, "EntryNotFound", "no such endpoint: " + raw);
                return;
            }
            String repoId = parts[0] + "/" + parts[1];
            FakeRepo repo = repos.get(repoId);
            boolean authorized = ("Bearer " + token).equals(x.getRequestHeaders().getFirst("Authorization"));
            if (repo == null) {
                error(x, authorized ? 404 : 401, "RepoNotFound", "Repository not found");
                return;
            }
            if (repo.gated() && !authorized) {
                error(x, 401, "GatedRepo", "Access to model " + repoId + " is restricted. You must have access to it"
                        + " and be authenticated to access it. Please log in.");
                return;
            }
            String revision = decode(parts[3]);
            if (!revision.equals("main") && !revision.equals(repo.commit())) {
                error(x, 404, "RevisionNotFound", "Invalid rev id: " + revision);
                return;
            }
            if (api) {
                revisionInfo(x, repo);
            } else {
                resolve(x, repo, decode(parts[4]));
            }
        }
    }

    private static void revisionInfo(HttpExchange x, FakeRepo repo) throws IOException {
        JsonObject info = new JsonObject();
        info.addProperty("id", repo.id());
        info.addProperty("sha", repo.commit());
        JsonArray siblings = new JsonArray();
        for (String path : repo.files().keySet()) {
            JsonObject s = new JsonObject();
            s.addProperty("rfilename", path);
            siblings.add(s);
        }
        info.add("siblings", siblings);
        x.getResponseHeaders().set("Content-Type", "application/json");
        body(x, 200, info.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void resolve(HttpExchange x, FakeRepo repo, String path) throws IOException {
        byte[] bytes = repo.files().get(path);
        if (bytes == null) {
            error(x, 404, "EntryNotFound", path + " does not exist on \"main\"");
            return;
        }
        x.getResponseHeaders().set("X-Repo-Commit", repo.commit());
        if (FakeRepo.isLfs(path)) {
            String sha = repo.lfsEtag(path);
            x.getResponseHeaders().set("ETag", "\"" + FakeRepo.gitBlobSha1(repo.lfsPointer(path)) + "\"");
            x.getResponseHeaders().set("X-Linked-Etag", "\"" + sha + "\"");
            x.getResponseHeaders().set("X-Linked-Size", Long.toString(bytes.length));
            x.getResponseHeaders().set("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/" + sha
                    + "?expires=3600");
            x.sendResponseHeaders(302, -1);
            return;
        }
        x.getResponseHeaders().set("ETag", "\"" + FakeRepo.gitBlobSha1(bytes) + "\"");
        serve(x, bytes, true, null);
    }

    private void cdn(HttpExchange x) throws IOException {
        try (x) {
            record(x, "cdn");
            String path = x.getRequestURI().getPath();
            String sha = path.startsWith("/blobs/") ? path.substring("/blobs/".length()) : "";
            byte[] bytes = cdnBlobs.get(sha);
            if (bytes == null) {
                error(x, 404, null, "no such blob");
                return;
            }
            serve(x, bytes, !cdnIgnoresRanges, sha);
        }
    }

    /** The bytes, or those from the Range's start (206), with the faults asked for on the CDN. */
    private void serve(HttpExchange x, byte[] bytes, boolean ranges, String cdnBlob) throws IOException {
        long start = 0;
        String range = x.getRequestHeaders().getFirst("Range");
        if (ranges && range != null && range.matches("bytes=\\d+-")) {
            start = Long.parseLong(range.substring(6, range.length() - 1));
            if (start >= bytes.length) {
                x.getResponseHeaders().set("Content-Range", "bytes */" + bytes.length);
                x.sendResponseHeaders(416, -1);
                return;
            }
            x.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (bytes.length - 1) + "/"
                    + bytes.length);
        }
        int status = start > 0 || ranges && range != null ? 206 : 200;
        long length = bytes.length - start;
        if (x.getRequestMethod().equals("HEAD")) {
            x.getResponseHeaders().set("Content-Length", Long.toString(length));
            x.sendResponseHeaders(status, -1);
            return;
        }
        Long cut = cdnBlob == null ? null : cutAfter.remove(cdnBlob);
        Long stall = cdnBlob == null ? null : stallAfter.remove(cdnBlob);
        x.sendResponseHeaders(status, length);
        OutputStream out = x.getResponseBody();
        long limit = cut != null ? cut : stall != null ? stall : length;
        int sent = (int) Math.min(limit, length);
        out.write(bytes, (int) start, sent);
        out.flush();
        if (cdnBlob != null) {
            cdnBytesSent.computeIfAbsent(cdnBlob, k -> new AtomicLong()).addAndGet(sent);
        }
        if (stall != null) {
            try {
                Thread.sleep(30_000); // the client gives up first, or close() interrupts this
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (sent < length) {
            // leaves the handler with the body unfinished: the server drops the connection
            throw new IOException("fault injected: transfer of " + cdnBlob + " cut after " + sent + " bytes");
        }
    }

    private void record(HttpExchange x, String server) {
        requests.add(new Request(server, x.getRequestMethod(), x.getRequestURI().getPath(),
                x.getRequestHeaders().getFirst("Range"), x.getRequestHeaders().getFirst("Authorization")));
    }

    private static void error(HttpExchange x, int status, String code, String message) throws IOException {
        if (code != null) {
            x.getResponseHeaders().set("X-Error-Code", code);
        }
        x.getResponseHeaders().set("X-Error-Message", message);
        body(x, status, ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    private static void body(HttpExchange x, int status, byte[] bytes) throws IOException {
        if (x.getRequestMethod().equals("HEAD")) {
            x.sendResponseHeaders(status, -1);
            return;
        }
        x.sendResponseHeaders(status, bytes.length);
        x.getResponseBody().write(bytes);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
