package io.convllava.common.model;

import io.convllava.common.checkpoint.CheckpointException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Hugging Face hub cache layout: {@code <cache>/models--ORG--NAME/refs/main} names the revision whose files
 * are in {@code snapshots/<revision>/}.
 */
public final class HubCache {
    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");

    private HubCache() {
    }

    /** Whether {@code s} has the form of a hub repo id ({@code ORG/NAME}). */
    public static boolean isRepoId(String s) {
        return REPO_ID.matcher(s).matches();
    }

    /** The explicit cache, else {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}. */
    public static Path locate(Path explicitOrNull) {
        return locate(explicitOrNull, System.getenv(), System.getProperty("user.home"));
    }

    static Path locate(Path explicitOrNull, Map<String, String> env, String userHome) {
        if (explicitOrNull != null) {
            return explicitOrNull;
        }
        String hubCache = env.get("HF_HUB_CACHE");
        if (hubCache != null && !hubCache.isEmpty()) {
            return Path.of(hubCache);
        }
        String hfHome = env.get("HF_HOME");
        if (hfHome != null && !hfHome.isEmpty()) {
            return Path.of(hfHome, "hub");
        }
        return Path.of(userHome, ".cache", "huggingface", "hub");
    }

    /** {@code models--ORG--NAME} inside the cache. */
    public static Path repoDir(Path cache, String repoId) {
        return cache.resolve("models--" + repoId.replace("/", "--"));
    }

    /**
     * The snapshot folder of {@code repoId} that {@code refs/main} points at (or the only snapshot when there is no
     * ref), or null when the repo is not in the cache.
     */
    public static Path snapshot(Path cache, String repoId) {
        Path repo = repoDir(cache, repoId);
        if (!Files.isDirectory(repo)) {
            return null;
        }
        Path ref = repo.resolve("refs/main");
        try {
            if (Files.isRegularFile(ref)) {
                String revision = Files.readString(ref).trim();
                Path snapshot = repo.resolve("snapshots").resolve(revision);
                if (!Files.isDirectory(snapshot)) {
                    throw new CheckpointException(ref + " names revision '" + revision + "', but " + snapshot
                            + " does not exist");
                }
                return snapshot;
            }
            Path snapshots = repo.resolve("snapshots");
            if (!Files.isDirectory(snapshots)) {
                return null;
            }
            try (Stream<Path> s = Files.list(snapshots)) {
                List<Path> all = s.filter(Files::isDirectory).toList();
                if (all.size() > 1) {
                    throw new CheckpointException(repo + " has no refs/main and " + all.size()
                            + " snapshots; cannot tell which revision to use");
                }
                return all.isEmpty() ? null : all.get(0);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot read hub cache entry " + repo + ": " + e, e);
        }
    }
}
