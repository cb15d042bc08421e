package io.convllava.coordinator.text;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts input text at added tokens ({@code <s>}, {@code </s>}, ...) the way HF {@code tokenizers} does before
 * normalisation: leftmost match first, the longest token when several start there; empty text between matches is
 * dropped; {@code lstrip}/{@code rstrip} tokens swallow the neighbouring whitespace.
 */
final class AddedTokenSplitter {

    sealed interface Part {
    }

    record Text(String text) implements Part {
    }

    record Token(int id) implements Part {
    }

    /** A token text to find and the id it stands for. */
    record Entry(String content, int id, boolean lstrip, boolean rstrip) {
    }

    private final List<Entry> longestFirst;

    AddedTokenSplitter(List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.removeIf(e -> e.content().isEmpty());
        sorted.sort(Comparator.comparingInt((Entry e) -> e.content().length()).reversed());
        this.longestFirst = List.copyOf(sorted);
    }

    List<Part> split(String text) {
        List<Part> parts = new ArrayList<>();
        if (longestFirst.isEmpty()) {
            addText(parts, text);
            return parts;
        }
        int textStart = 0;
        int i = 0;
        while (i < text.length()) {
            Entry match = matchAt(text, i);
            if (match == null) {
                i++;
                continue;
            }
            int start = i;
            int end = i + match.content().length();
            if (match.lstrip()) {
                while (start > textStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (match.rstrip()) {
                while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            addText(parts, text.substring(textStart, start));
            parts.add(new Token(match.id()));
            textStart = end;
            i = end;
        }
        addText(parts, text.substring(textStart));
        return parts;
    }

    private Entry matchAt(String text, int i) {
        for (Entry e : longestFirst) {
            if (text.startsWith(e.content(), i)) {
                return e;
            }
        }
        return null;
    }

    private static void addText(List<Part> parts, String text) {
        if (!text.isEmpty()) {
            parts.add(new Text(text));
        }
    }
}
