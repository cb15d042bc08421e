package io.convllava.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A repository that {@link FakeHub} serves: files by path at one commit. Weights, tokenizer models and images are
 * stored the way the Hub stores them, in LFS (their ETag is the sha256 of the bytes, served from the CDN); every other
 * file is in git (its ETag is the sha1 of its git blob).
 *
 * @param gated              only a request with the hub's token may see it
 * @param announcedSha256    LFS files whose ETag the hub announces differently from their bytes' sha256
 */
record FakeRepo(String id, String commit, Map<String, byte[]> files, boolean gated,
                Map<String, String> announcedSha256) {

    FakeRepo {
        files = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(files)); // the order the Hub lists
        announcedSha256 = Map.copyOf(announcedSha256);
    }

    static FakeRepo of(String id, Map<String, byte[]> files, boolean gated) {
        return new FakeRepo(id, hex("SHA-1", id.getBytes(StandardCharsets.UTF_8)), files, gated, Map.of());
    }

    /** Every file under {@code folder} by its relative path, {@code /}-separated. */
    static Map<String, byte[]> filesOf(Path folder) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> all = Files.walk(folder)) {
            for (Path p : all.filter(Files::isRegularFile).sorted().toList()) {
                files.put(folder.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    /** This repository, but the hub announces {@code sha256} as the ETag of {@code path}. */
    FakeRepo announcing(String path, String sha256) {
        Map<String, String> announced = new LinkedHashMap<>(announcedSha256);
        announced.put(path, sha256);
        return new FakeRepo(id, commit, files, gated, announced);
    }

    static boolean isLfs(String path) {
        return path.endsWith(".safetensors") || path.endsWith(".bin") || path.endsWith(".model")
                || path.endsWith(".png");
    }

    /** The sha256 the hub announces for an LFS file. */
    String lfsEtag(String path) {
        return announcedSha256.getOrDefault(path, sha256(files.get(path)));
    }

    /** The name the file's blob has in a hub cache: its LFS sha256 or its git blob sha1. */
    String blobName(String path) {
        return isLfs(path) ? lfsEtag(path) : gitBlobSha1(files.get(path));
    }

    static String sha256(byte[] bytes) {
        return hex("SHA-256", bytes);
    }

    /** What {@code git hash-object} prints: the sha1 of {@code "blob <size>\0"} and the bytes. */
    static String gitBlobSha1(byte[] bytes) {
        byte[] header = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[header.length + bytes.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(bytes, 0, all, header.length, bytes.length);
        return hex("SHA-1", all);
    }

    /** The git-lfs pointer file that git holds in place of an LFS file. */
    byte[] lfsPointer(String path) {
        return ("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha256(files.get(path)) + "\nsize "
                + files.get(path).length + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static String hex(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
