package io.convllava.cli.download;

import io.convllava.common.model.HubCache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A repository's folder in the hub cache, written the way {@code huggingface_hub} writes it, so that either tool can
 * use what the other fetched:
 * <pre>
 * models--ORG--NAME/blobs/ETAG                    the file's bytes, named by its sha256 (LFS) or git sha1
 *                  /blobs/ETAG.incomplete         a transfer in progress, resumed from its size
 *                  /snapshots/COMMIT/PATH         a relative symlink to ../../blobs/ETAG (deeper paths: more ../)
 *                  /refs/REVISION                 the commit the branch or tag named when it was fetched
 * .locks/models--ORG--NAME/ETAG.lock              held while a blob is being fetched
 * </pre>
 */
final class RepoFolder {
    private final Path cache;
    private final String repo;
    private final Path root;

    RepoFolder(Path cache, String repo) {
        this.cache = cache;
        this.repo = repo;
        this.root = HubCache.repoDir(cache, repo);
    }

    Path root() {
        return root;
    }

    Path blob(String etag) {
        return root.resolve("blobs").resolve(etag);
    }

    Path incomplete(String etag) {
        return root.resolve("blobs").resolve(etag + ".incomplete");
    }

    Path lock(String etag) {
        return cache.resolve(".locks").resolve(root.getFileName()).resolve(etag + ".lock");
    }

    Path snapshot(String commit) {
        return root.resolve("snapshots").resolve(commit);
    }

    /** Where the file {@code path} of the repository appears in the snapshot of {@code commit}. */
    Path snapshotFile(String commit, String path) {
        return inside(snapshot(commit), path, "file");
    }

    /** Points the snapshot's {@code path} at the blob {@code etag} (a relative symlink; a copy where links fail). */
    void link(String commit, String path, String etag) {
        Path file = snapshotFile(commit, path);
        Path blob = blob(etag);
        try {
            Files.createDirectories(file.getParent());
            Path target = file.getParent().relativize(blob);
            if (Files.isSymbolicLink(file) && Files.readSymbolicLink(file).equals(target)) {
                return;
            }
            Files.deleteIfExists(file);
            try {
                Files.createSymbolicLink(file, target);
            } catch (UnsupportedOperationException | IOException e) {
                Files.copy(blob, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot place " + path + " of " + repo + " in " + file.getParent(), e);
        }
    }

    /** Records that {@code revision} names {@code commit} (nothing to record when the revision is the commit). */
    void writeRef(String revision, String commit) {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = inside(root.resolve("refs"), revision, "revision");
        try {
            if (Files.isRegularFile(ref) && Files.readString(ref).strip().equals(commit)) {
                return;
            }
            Files.createDirectories(ref.getParent());
            Path tmp = ref.resolveSibling(ref.getFileName() + ".tmp");
            Files.writeString(tmp, commit, StandardCharsets.UTF_8);
            Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + ref, e);
        }
    }

    /** {@code base/relative}, refusing names that would land outside {@code base} (a hostile or broken Hub). */
    private Path inside(Path base, String relative, String what) {
        boolean bad = relative.isEmpty() || relative.startsWith("/") || relative.contains("\\")
                || relative.indexOf('\0') >= 0;
        for (String part : relative.split("/", -1)) {
            bad |= part.isEmpty() || part.equals(".") || part.equals("..");
        }
        if (bad) {
            throw new HubException(repo + ": the Hub names a " + what + " '" + relative + "' that is not a plain"
                    + " relative path; refusing to write outside " + base);
        }
        return base.resolve(relative);
    }
}
