package io.convllava.coordinator.routing;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RendezvousHashingTest {
    private static final int KEYS = 3000;
    private static final List<String> NODES = List.of("vision-a", "vision-b", "vision-c");

    @Test
    void theRankingDependsOnKeyAndIdsNotOnListOrder() {
        for (String key : keys(50)) {
            List<String> ranked = rank(key, NODES);
            assertEquals(new HashSet<>(NODES), new HashSet<>(ranked));
            assertEquals(ranked, rank(key, List.of("vision-c", "vision-a", "vision-b")));
        }
    }

    @Test
    void keysSpreadEvenly() {
        Map<String, Integer> counts = new HashMap<>();
        for (String key : keys(KEYS)) {
            counts.merge(RendezvousHashing.first(key, NODES, Function.identity()), 1, Integer::sum);
        }
        for (String node : NODES) {
            int n = counts.getOrDefault(node, 0);
            assertTrue(n > KEYS / 3 * 0.85 && n < KEYS / 3 * 1.15, node + " got " + n + " of " + KEYS);
        }
    }

    @Test
    void aLeavingNodeMovesOnlyItsOwnKeysEachToItsSecondChoice() {
        List<String> withoutB = List.of("vision-a", "vision-c");
        for (String key : keys(KEYS)) {
            List<String> before = rank(key, NODES);
            String after = RendezvousHashing.first(key, withoutB, Function.identity());
            if (!before.get(0).equals("vision-b")) {
                assertEquals(before.get(0), after, key);
            } else {
                assertEquals(before.get(1), after, key);
            }
        }
    }

    @Test
    void aJoiningNodeTakesAboutAQuarterFromEveryNode() {
        List<String> withD = List.of("vision-a", "vision-b", "vision-c", "vision-d");
        int moved = 0;
        for (String key : keys(KEYS)) {
            String before = RendezvousHashing.first(key, NODES, Function.identity());
            String after = RendezvousHashing.first(key, withD, Function.identity());
            if (!before.equals(after)) {
                assertEquals("vision-d", after, "a key may only move to the new node");
                moved++;
            }
        }
        assertTrue(moved > KEYS / 4 * 0.85 && moved < KEYS / 4 * 1.15, moved + " of " + KEYS + " moved");
    }

    @Test
    void differentKeysGetDifferentFirstChoices() {
        assertNotEquals(1, new HashSet<>(keys(20).stream()
                .map(k -> RendezvousHashing.first(k, NODES, Function.identity())).toList()).size());
    }

    private static List<String> rank(String key, List<String> nodes) {
        return RendezvousHashing.rank(key, nodes, Function.identity());
    }

    /** SHA-256-like keys: 64 hex digits. */
    private static List<String> keys(int n) {
        List<String> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            keys.add(String.format("%064x", (long) i * 0x9E3779B97F4A7C15L));
        }
        return keys;
    }
}
