package io.convllava.coordinator.generate;

import io.convllava.coordinator.text.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns the growing token list into text deltas for streaming. Holds back what could still become a stop string
 * and incomplete UTF-8 (a byte-fallback character split over tokens), and cuts the text at the first stop string.
 * Decoding the whole history each step keeps the deltas exactly consistent with a one-shot decode.
 */
final class StopStringFilter {
    private final Tokenizer tokenizer;
    private final List<String> stopStrings;
    private final List<Integer> tokens = new ArrayList<>();
    private String text = "";
    private int emitted;
    private boolean stopped;

    StopStringFilter(Tokenizer tokenizer, List<String> stopStrings) {
        this.tokenizer = tokenizer;
        this.stopStrings = stopStrings.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Adds a token and returns the text that can now be shown (possibly empty). */
    String push(int token) {
        tokens.add(token);
        String full = tokenizer.decode(tokens.stream().mapToInt(Integer::intValue).toArray());
        int cut = -1;
        for (String stop : stopStrings) {
            int at = full.indexOf(stop);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            full = full.substring(0, cut);
            stopped = true;
        }
        text = full;
        int safe = stopped ? full.length() : safeLength(full);
        if (safe <= emitted) {
            return "";
        }
        String delta = full.substring(emitted, safe);
        emitted = safe;
        return delta;
    }

    boolean stopped() {
        return stopped;
    }

    String text() {
        return text;
    }

    /** Length of the prefix that no later token can change into a stop string or complete differently. */
    private int safeLength(String full) {
        int end = full.length();
        while (end > 0 && full.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        int hold = 0;
        for (String stop : stopStrings) {
            for (int k = Math.min(stop.length() - 1, end); k > hold; k--) {
                if (full.regionMatches(end - k, stop, 0, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return Math.max(end - hold, emitted);
    }
}
