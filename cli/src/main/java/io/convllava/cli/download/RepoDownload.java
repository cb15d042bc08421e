package io.convllava.cli.download;

import java.nio.file.Path;

/**
 * A repository in the cache after a download.
 *
 * @param snapshot     {@code models--ORG--NAME/snapshots/COMMIT}, the folder a model is loaded from
 * @param files        files of the revision
 * @param fetched      files whose bytes this run fetched (the others were in the cache already)
 * @param fetchedBytes their size
 */
public record RepoDownload(String repo, String revision, String commit, Path snapshot, int files, int fetched,
                           long fetchedBytes) {
}
