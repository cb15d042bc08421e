package io.convllava.coordinator.generate;

import io.convllava.coordinator.text.IncrementalDecoder;
import io.convllava.coordinator.text.Tokenizer;

import java.util.List;

/**
 * Turns generated tokens into text deltas for streaming. Holds back what could still become a stop string, and
 * cuts the text at the first stop string. Incomplete UTF-8 (a character split over byte tokens) is held back by
 * the {@link IncrementalDecoder}, which decodes a small window per token rather than the whole history.
 */
final class StopStringFilter {
    private final IncrementalDecoder decoder;
    private final List<String> stopStrings;
    private final StringBuilder text = new StringBuilder();
    private int emitted;
    private boolean stopped;

    StopStringFilter(Tokenizer tokenizer, List<String> stopStrings) {
        this.decoder = new IncrementalDecoder(tokenizer);
        this.stopStrings = stopStrings.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Adds a token and returns the text that can now be shown (possibly empty). */
    String push(int token) {
        text.append(decoder.push(token));
        int cut = -1;
        for (String stop : stopStrings) {
            // a match ending inside the emitted text would have been found earlier
            int at = text.indexOf(stop, Math.max(0, emitted - stop.length() + 1));
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            text.setLength(cut);
            stopped = true;
        }
        int safe = stopped ? text.length() : safeLength();
        if (safe <= emitted) {
            return "";
        }
        String delta = text.substring(emitted, safe);
        emitted = safe;
        return delta;
    }

    boolean stopped() {
        return stopped;
    }

    /** The whole text: what was shown, plus anything held back (an unfinished character ends as U+FFFD). */
    String text() {
        if (!stopped) {
            text.append(decoder.flush());
        }
        return text.toString();
    }

    /** Length of the prefix no later token can turn into a stop string. */
    private int safeLength() {
        int end = text.length();
        int hold = 0;
        for (String stop : stopStrings) {
            for (int k = Math.min(stop.length() - 1, end); k > hold; k--) {
                if (endsWithStartOf(stop, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return Math.max(end - hold, emitted);
    }

    /** Whether the text ends with the first {@code k} characters of {@code stop}. */
    private boolean endsWithStartOf(String stop, int k) {
        int from = text.length() - k;
        for (int i = 0; i < k; i++) {
            if (text.charAt(from + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
