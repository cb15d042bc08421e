package io.convllava.coordinator.prefix;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The KV caches one pipeline was asked to keep after finished generations, by the content of their positions
 * ({@link PromptContent}), so that a request continuing a conversation runs only its new positions. Bounded, least
 * recently used first out. The nodes may drop a kept cache before this index forgets it (their KV budget decides),
 * so a match is a hint: the caller falls back to a full prefill when the stages no longer hold it. Thread-safe.
 */
public final class PrefixIndex {
    /** Matches shorter than this are not worth a round of bookkeeping. */
    static final int MIN_REUSE = 16;

    private final int capacity;
    private final LinkedHashMap<String, Kept> kept;

    /** A kept cache: its positions' content and how they were computed. */
    private record Kept(long[] content, PrefillChunks chunks) {
    }

    public PrefixIndex(int capacity) {
        this.capacity = capacity;
        this.kept = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Kept> eldest) {
                return size() > PrefixIndex.this.capacity;
            }
        };
    }

    /**
     * A kept cache to continue from: its key, how many of its positions the new prompt shares, and how those were
     * computed.
     */
    public record Match(String key, int length, PrefillChunks chunks) {
        public Match(String key, int length) {
            this(key, length, PrefillChunks.NONE);
        }
    }

    /**
     * The kept cache sharing the longest prefix with {@code content} (at least {@value #MIN_REUSE} positions,
     * always leaving the last position to run, and never ending inside one of the cache's prompt chunks:
     * {@link PrefillChunks#reusableLength}); it stays in the index, most recently used now: the stages start each
     * session from a copy of it, so requests sharing a prefix continue from it together. Null when none is worth it.
     */
    public synchronized Match match(long[] content) {
        String bestKey = null;
        int best = 0;
        for (Map.Entry<String, Kept> e : kept.entrySet()) {
            int shared = e.getValue().chunks().reusableLength(
                    Math.min(PromptContent.commonPrefix(e.getValue().content(), content), content.length - 1));
            if (shared > best) {
                best = shared;
                bestKey = e.getKey();
            }
        }
        if (bestKey == null || best < MIN_REUSE) {
            return null;
        }
        return new Match(bestKey, best, kept.get(bestKey).chunks().truncatedTo(best));
    }

    /** Longest prefix of {@code content} that a kept cache shares (0 if none), by content alone: for routing. */
    public synchronized int longestMatch(long[] content) {
        int best = 0;
        for (Kept k : kept.values()) {
            best = Math.max(best, PromptContent.commonPrefix(k.content(), content));
        }
        return best;
    }

    /** Records that the stages keep a cache under {@code key} ({@link #keyOf}) holding the positions of content. */
    public synchronized void add(String key, long[] content) {
        add(key, content, PrefillChunks.NONE);
    }

    /** As {@link #add(String, long[])}, with how the cache's positions were computed. */
    public synchronized void add(String key, long[] content, PrefillChunks chunks) {
        kept.put(key, new Kept(content, chunks));
    }

    /** Forgets a key whose cache the stages no longer hold. */
    public synchronized void remove(String key) {
        kept.remove(key);
    }

    public synchronized int size() {
        return kept.size();
    }

    /** SHA-256 of the content: the same positions give the same key on every coordinator. */
    public static String keyOf(long[] content) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer buffer = ByteBuffer.allocate(8 * 1024);
            for (long v : content) {
                if (!buffer.hasRemaining()) {
                    sha.update(buffer.flip());
                    buffer.clear();
                }
                buffer.putLong(v);
            }
            sha.update(buffer.flip());
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
