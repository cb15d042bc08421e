package io.convllava.cli.download;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Fetches a whole repository at a revision into the hub cache, like {@code huggingface_hub}'s
 * {@code snapshot_download}: the revision's commit and files from the API, each file described by a {@code HEAD};
 * blobs already in the cache are only linked, the others fetched into {@code blobs/ETAG.incomplete} (resumed if an
 * earlier run left one), verified against the ETag and only then renamed to {@code blobs/ETAG}; last
 * {@code refs/REVISION} names the commit. A file that fails verification is deleted, never left as a blob.
 */
public final class RepoDownloader {
    private final HubApi api;
    private final BlobTransfer transfer;
    private final TransferProgress progress;
    private final Path cache;

    public RepoDownloader(HubAccess access, TransferSettings settings, Path cache, TransferProgress progress) {
        HubHttp http = new HubHttp(access, settings);
        this.api = new HubApi(http);
        this.transfer = new BlobTransfer(http, progress);
        this.progress = progress;
        this.cache = cache;
    }

    public Path cache() {
        return cache;
    }

    public RepoDownload download(String repo, String revision) {
        RemoteRevision remote = api.revision(repo, revision);
        RepoFolder folder = new RepoFolder(cache, repo);
        List<RemoteFile> files = new ArrayList<>();
        for (String path : remote.files()) {
            folder.snapshotFile(remote.commit(), path); // refuses a bad name before anything is fetched
            files.add(api.describe(repo, remote.commit(), path));
        }
        Set<String> toFetch = new HashSet<>();
        long bytes = 0;
        for (RemoteFile f : files) {
            if (!present(folder, f) && toFetch.add(f.etag())) {
                bytes += Math.max(f.size(), 0);
            }
        }
        progress.beginRepo(repo, toFetch.size(), bytes);
        int fetched = 0;
        long fetchedBytes = 0;
        boolean complete = false;
        try {
            for (RemoteFile f : files) {
                if (!present(folder, f)) {
                    fetch(repo, folder, f);
                    fetched++;
                    fetchedBytes += Math.max(f.size(), 0);
                }
                folder.link(remote.commit(), f.path(), f.etag());
            }
            complete = true;
        } finally {
            progress.endRepo(complete);
        }
        folder.writeRef(revision, remote.commit());
        return new RepoDownload(repo, revision, remote.commit(), folder.snapshot(remote.commit()), files.size(),
                fetched, fetchedBytes);
    }

    /** Whether the blob is in the cache with the size the Hub announced. */
    private static boolean present(RepoFolder folder, RemoteFile f) {
        Path blob = folder.blob(f.etag());
        try {
            return Files.isRegularFile(blob) && (f.size() < 0 || Files.size(blob) == f.size());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + blob, e);
        }
    }

    private void fetch(String repo, RepoFolder folder, RemoteFile f) {
        try (BlobLock ignored = BlobLock.take(folder.lock(f.etag()), line -> progress.note("  " + line))) {
            if (present(folder, f)) {
                return; // another download finished it while this one waited
            }
            Path part = folder.incomplete(f.etag());
            Files.createDirectories(part.getParent());
            long resumed = Files.exists(part) ? Files.size(part) : 0;
            progress.beginFile(f.path(), f.size(), f.size() >= 0 ? Math.min(resumed, f.size()) : resumed);
            transfer.fetch(repo, f, part);
            progress.endFile();
            if (f.size() >= 100L << 20) {
                progress.note("  verifying " + f.path() + " (" + ContentCheck.kind(f.etag()) + ")");
            }
            String wrong = ContentCheck.mismatch(f, part);
            if (wrong != null) {
                Files.delete(part);
                throw new HubException(f.path() + " of " + repo + ": the fetched file is not the one the Hub"
                        + " announced: " + wrong + ". It was deleted; run the download again, and if this repeats,"
                        + " the Hub or CDN serving " + f.source().getHost() + " sends corrupt data");
            }
            Files.move(part, folder.blob(f.etag()), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store " + f.path() + " of " + repo + " in " + folder.root(), e);
        }
    }
}
