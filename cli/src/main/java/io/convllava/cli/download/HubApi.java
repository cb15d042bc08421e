package io.convllava.cli.download;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * The Hub's file API: {@code GET /api/models/ORG/NAME/revision/REV} names the commit of a revision and lists its
 * files; {@code HEAD /ORG/NAME/resolve/COMMIT/PATH} describes one file (its ETag, size and, for a large file, the CDN
 * address it redirects to).
 */
public final class HubApi {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    /** What a blob's file name may be: the Hub's ETags are hex digests. */
    private static final Pattern SAFE_ETAG = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

    private final HubHttp http;

    HubApi(HubHttp http) {
        this.http = http;
    }

    /** The commit that {@code revision} (a branch, tag or commit) names in {@code repo}, and its files. */
    public RemoteRevision revision(String repo, String revision) {
        String what = "repository " + repo + " at revision " + revision;
        URI uri = http.access().resolvePath("api/models/" + repo + "/revision/" + UrlPaths.segment(revision));
        HubHttp.Text r = http.getText(uri, what);
        if (r.statusCode() != 200) {
            throw HubErrors.refused(r.statusCode(), r.headers(), what, repo, http.access());
        }
        try {
            JsonObject info = JsonParser.parseString(r.body()).getAsJsonObject();
            String commit = info.has("sha") ? info.get("sha").getAsString() : "";
            if (!COMMIT.matcher(commit).matches()) {
                throw new HubException(what + ": the Hub's answer from " + uri + " has no commit ('sha'), got '"
                        + commit + "'");
            }
            List<String> files = new ArrayList<>();
            JsonArray siblings = info.has("siblings") ? info.getAsJsonArray("siblings") : new JsonArray();
            for (JsonElement e : siblings) {
                files.add(e.getAsJsonObject().get("rfilename").getAsString());
            }
            if (files.isEmpty()) {
                throw new HubException(what + ": the Hub lists no files (" + uri + ")");
            }
            return new RemoteRevision(repo, revision, commit, files);
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException | NullPointerException e) {
            throw new HubException(what + ": the answer from " + uri + " is not the Hub's revision JSON (" + e
                    .getMessage() + ")", e);
        }
    }

    /** The file {@code path} of {@code repo} at {@code commit}: its ETag, size and where its bytes are. */
    public RemoteFile describe(String repo, String commit, String path) {
        String what = path + " of " + repo;
        URI uri = http.access().resolvePath(repo + "/resolve/" + UrlPaths.segment(commit) + "/" + UrlPaths.path(path));
        HttpResponse<Void> r = http.head(uri, what);
        int status = r.statusCode();
        boolean redirect = HubHttp.isRedirect(status);
        if (!redirect && status != 200) {
            throw HubErrors.refused(status, r.headers(), what, repo, http.access());
        }
        HttpHeaders h = r.headers();
        String etag = normalizeEtag(h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null));
        if (etag == null) {
            throw new HubException(what + ": the Hub sent no ETag for " + uri + ", so the file cannot be verified");
        }
        if (!SAFE_ETAG.matcher(etag).matches()) {
            throw new HubException(what + ": the Hub sent an ETag that is not a digest: '" + etag + "'");
        }
        long size;
        try {
            OptionalLong linked = h.firstValueAsLong("X-Linked-Size");
            size = linked.isPresent() ? linked.getAsLong()
                    : redirect ? -1 : h.firstValueAsLong("Content-Length").orElse(-1);
        } catch (NumberFormatException e) {
            throw new HubException(what + ": the Hub sent a size that is not a number (" + e.getMessage() + ")");
        }
        URI source = redirect ? HubHttp.location(r, what) : r.uri();
        return new RemoteFile(path, etag, size, source);
    }

    /** {@code "abc"} and {@code W/"abc"} both mean {@code abc}. */
    static String normalizeEtag(String etag) {
        if (etag == null) {
            return null;
        }
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e.isEmpty() ? null : e;
    }
}
