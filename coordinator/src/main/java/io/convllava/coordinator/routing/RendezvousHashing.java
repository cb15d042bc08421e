package io.convllava.coordinator.routing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * Highest-random-weight (rendezvous) hashing: every node gets a pseudo-random weight for a key, and the key goes to
 * the heaviest node, then the next heaviest if that one fails. The weight depends only on the key and the node's
 * id, so when a node leaves only its keys move (each to its own next choice), and a node that joins takes over
 * about 1/n of the keys, from every other node alike. No ring, no state: any coordinator ranks the same way.
 */
public final class RendezvousHashing {
    private RendezvousHashing() {
    }

    /**
     * The candidates from the first choice for {@code key} to the last.
     *
     * @param id each candidate's stable identity (a node id), not its position in the list
     */
    public static <T> List<T> rank(String key, List<T> candidates, Function<T, String> id) {
        long k = hash64(key);
        List<Weighted<T>> weighted = new ArrayList<>(candidates.size());
        for (T c : candidates) {
            String name = id.apply(c);
            weighted.add(new Weighted<>(c, mix(k ^ hash64(name)), name));
        }
        // ties (astronomically rare) break on the id, so every coordinator still agrees
        weighted.sort(Comparator.<Weighted<T>>comparingLong(w -> w.weight).reversed()
                .thenComparing(w -> w.id));
        List<T> ranked = new ArrayList<>(weighted.size());
        for (Weighted<T> w : weighted) {
            ranked.add(w.target);
        }
        return ranked;
    }

    /** The first choice for {@code key}; the list must not be empty. */
    public static <T> T first(String key, List<T> candidates, Function<T, String> id) {
        return rank(key, candidates, id).get(0);
    }

    /** 64-bit FNV-1a of the UTF-8 bytes, finished with {@link #mix}: stable across JVMs and runs. */
    static long hash64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    /** SplitMix64's finaliser: every input bit affects every output bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private record Weighted<T>(T target, long weight, String id) {
    }
}
