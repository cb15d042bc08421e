package io.convllava.cli.download;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * What a fetched file must be, from its ETag: a large file's ETag is the sha256 of its bytes (LFS), a small file's
 * the sha1 of its git blob ({@code "blob <size>\0"} then the bytes); another ETag (a mirror's) checks only the size.
 */
final class ContentCheck {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");

    private ContentCheck() {
    }

    /** Which digest the ETag is, in words: "sha256", "git sha1" or "size only". */
    static String kind(String etag) {
        return SHA256.matcher(etag).matches() ? "sha256" : SHA1.matcher(etag).matches() ? "git sha1" : "size only";
    }

    /**
     * Checks the fetched bytes in {@code file} against {@code remote}; null when they match, else what is wrong.
     */
    static String mismatch(RemoteFile remote, Path file) {
        try {
            long size = Files.size(file);
            if (remote.size() >= 0 && size != remote.size()) {
                return "its size is " + size + " bytes, the Hub says " + remote.size();
            }
            String kind = kind(remote.etag());
            if (kind.equals("size only")) {
                return null;
            }
            MessageDigest digest = MessageDigest.getInstance(kind.equals("sha256") ? "SHA-256" : "SHA-1");
            if (kind.equals("git sha1")) {
                digest.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
            }
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 20];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                }
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            return actual.equals(remote.etag()) ? null
                    : "its " + kind + " is " + actual + ", the Hub's ETag says " + remote.etag();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " to verify it", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
