package io.convllava.cli.download;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Moves one file's bytes into its {@code .incomplete} file: from where an earlier attempt or run stopped (HTTP
 * {@code Range}), following redirects (without the token to other hosts), again after a lost connection, a stall
 * longer than the timeout or a busy server, until the file has the size the Hub announced.
 */
final class BlobTransfer {
    private static final int MAX_REDIRECTS = 10;

    private final HubHttp http;
    private final TransferProgress progress;

    BlobTransfer(HubHttp http, TransferProgress progress) {
        this.http = http;
        this.progress = progress;
    }

    /** A failed attempt that another attempt may get past. */
    private static final class Interrupted extends Exception {
        Interrupted(String message) {
            super(message);
        }
    }

    /**
     * Brings {@code incomplete} to the whole of {@code file}: returns once it has {@code file.size()} bytes (or, the
     * size unknown, once a transfer ended normally).
     *
     * @param repo for messages about refusals
     */
    void fetch(String repo, RemoteFile file, Path incomplete) {
        String what = file.path() + " of " + repo;
        int failures = 0;
        while (true) {
            long before = sizeOf(incomplete);
            if (file.size() >= 0 && before == file.size()) {
                return;
            }
            if (file.size() >= 0 && before > file.size()) {
                truncate(incomplete);
                progress.restart(before);
                before = 0;
            }
            String failure;
            try {
                once(repo, file, incomplete, before, what);
                long after = sizeOf(incomplete);
                if (file.size() < 0 || after == file.size()) {
                    return;
                }
                failure = after < file.size() ? "the transfer ended early"
                        : "the server sent more bytes than announced";
            } catch (Interrupted e) {
                failure = e.getMessage();
            }
            long after = sizeOf(incomplete);
            failures = after > before ? 1 : failures + 1; // an attempt that moved forward starts a new count
            if (failures > http.settings().retries()) {
                throw new HubException(what + ": " + failure + " (" + failures + " attempt(s) in a row without"
                        + " progress); " + TransferProgress.bytes(after) + " are kept in " + incomplete
                        + ": run the download again to resume");
            }
            progress.note(String.format(java.util.Locale.ROOT, "  %s: %s at %s; trying again in %.1f s", what, failure,
                    TransferProgress.bytes(after), http.settings().pauseBefore(failures).toMillis() / 1000.0));
            http.pause(failures);
        }
    }

    /** One attempt: a GET from {@code offset}, following redirects; the body lands in {@code incomplete}. */
    private void once(String repo, RemoteFile file, Path incomplete, long offset, String what) throws Interrupted {
        URI uri = file.source();
        for (int redirects = 0; ; redirects++) {
            HttpRequest.Builder request = http.request(uri).GET();
            if (offset > 0) {
                request.header("Range", "bytes=" + offset + "-");
            }
            FileSink sink = new FileSink(incomplete, offset, file.size(), progress);
            HttpResponse<Long> r = await(http.client().sendAsync(request.build(), sink), sink, uri);
            int status = r.statusCode();
            if (status == 200 || status == 206) {
                return;
            }
            if (HubHttp.isRedirect(status) && redirects + 1 < MAX_REDIRECTS) {
                uri = HubHttp.location(r, what);
                continue;
            }
            if (status == 416) {
                // the range starts at or past the end: what we hold is not a prefix of this file
                truncate(incomplete);
                progress.restart(offset);
                throw new Interrupted("the server refused the range from byte " + offset + " (416)");
            }
            if (HubErrors.transientStatus(status)) {
                throw new Interrupted("HTTP " + status + " from " + uri.getHost());
            }
            throw HubErrors.refused(status, r.headers(), what, repo, http.access());
        }
    }

    /** The response, once its body is written; a stall longer than the timeout aborts the transfer. */
    private HttpResponse<Long> await(CompletableFuture<HttpResponse<Long>> response, FileSink sink, URI uri)
            throws Interrupted {
        long timeoutNanos = http.settings().timeout().toNanos();
        while (true) {
            try {
                return response.get(Math.min(1000, Math.max(10, timeoutNanos / 4_000_000)), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (sink.idleNanos() > timeoutNanos) {
                    sink.abort(new IOException("no data for " + http.settings().timeout().toSeconds() + " s"));
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
                    cause = cause.getCause();
                }
                if (cause instanceof IOException io) {
                    throw new Interrupted(HubHttp.describe(io) + " (from " + uri.getHost() + ")");
                }
                if (cause instanceof UncheckedIOException io) {
                    throw new HubException(io.getMessage() + ": " + HubHttp.describe(io.getCause()), io);
                }
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                throw new HubException("transfer from " + uri.getHost() + " failed: " + cause, cause);
            } catch (InterruptedException e) {
                sink.abort(new IOException("interrupted"));
                response.cancel(true);
                Thread.currentThread().interrupt();
                throw new HubException("download interrupted");
            }
        }
    }

    private static long sizeOf(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static void truncate(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
