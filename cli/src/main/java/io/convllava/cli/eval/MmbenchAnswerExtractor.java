package io.convllava.cli.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which option an MMBench answer chose, by VLMEvalKit's exact matching (the heuristics it tries before asking a
 * judge model, which this harness does not use): first the option letters: with {@code .()[],:;!*#{}} turned into
 * spaces, an answer holding exactly one option letter as a word chose it (so "A triangle." chooses A, as in the
 * reference); an answer holding no letter but the word "Z", or one of the refusals the reference lists, chose "Z"
 * (no option). Otherwise the option texts: an answer containing exactly one option's text (case ignored) chose it.
 * Anything else (two letters, two texts, none) chose nothing: wrong.
 */
public final class MmbenchAnswerExtractor {
    /** The choice of an answer that declines to answer. */
    public static final String NO_OPTION = "Z";
    private static final String SEPARATORS = ".()[],:;!*#{}";
    private static final List<String> REFUSALS = List.of("Sorry, I can't help with images of people yet.",
            "I can't process this file.", "I'm sorry, but without the image provided", "Cannot determine the answer");

    private MmbenchAnswerExtractor() {
    }

    /** The letter the answer chose among {@code options} (letter -> text), "Z" for none, empty when it is unclear. */
    public static Optional<String> choice(String answer, Map<String, String> options) {
        Optional<String> letter = byLetter(answer, options);
        return letter.isPresent() ? letter : byText(answer, options);
    }

    static Optional<String> byLetter(String answer, Map<String, String> options) {
        for (String refusal : REFUSALS) {
            if (answer.contains(refusal)) {
                return Optional.of(NO_OPTION);
            }
        }
        StringBuilder spaced = new StringBuilder(answer);
        for (int i = 0; i < spaced.length(); i++) {
            if (SEPARATORS.indexOf(spaced.charAt(i)) >= 0) {
                spaced.setCharAt(i, ' ');
            }
        }
        List<String> words = List.of(spaced.toString().strip().split("\\s+"));
        List<String> letters = options.keySet().stream().filter(words::contains).toList();
        if (letters.size() == 1) {
            return Optional.of(letters.get(0));
        }
        if (letters.isEmpty() && words.contains(NO_OPTION)) {
            return Optional.of(NO_OPTION);
        }
        return Optional.empty();
    }

    static Optional<String> byText(String answer, Map<String, String> options) {
        String lower = answer.toLowerCase(Locale.ROOT);
        List<String> matches = new ArrayList<>();
        options.forEach((letter, text) -> {
            if (lower.contains(text.toLowerCase(Locale.ROOT))) {
                matches.add(letter);
            }
        });
        return matches.size() == 1 ? Optional.of(matches.get(0)) : Optional.empty();
    }
}
