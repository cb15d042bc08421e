package io.convllava.cli.download;

import java.net.URI;

/**
 * A file of a repository at a commit, as its {@code HEAD} describes it.
 *
 * @param path   its path in the repository ({@code vision_tower/config.json})
 * @param etag   {@code X-Linked-Etag} (the sha256 of a large, LFS-stored file) or {@code ETag} (the git blob sha1 of a
 *               file stored in git); also the blob's name in the cache
 * @param size   {@code X-Linked-Size} or {@code Content-Length}; -1 when the Hub did not say
 * @param source where the bytes are: the file's own URL, or the CDN address a large file redirects to
 */
public record RemoteFile(String path, String etag, long size, URI source) {
}
