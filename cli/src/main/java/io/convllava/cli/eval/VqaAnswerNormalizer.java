package io.convllava.cli.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Map.entry;

/**
 * The standard VQA answer normalisation, as EvalAI's answer processor (LLaVA's {@code m4c_evaluator.py}) applies it
 * before comparing answers: lower case, commas and question marks dropped, "'s" split off; punctuation removed (next
 * to a space) or turned into a space; periods not followed by a digit removed (the first 32 of them: the reference
 * passes {@code re.UNICODE} where {@code re.sub} takes its count); number words to digits ("three" -> "3"); articles
 * dropped; contractions restored ("dont" -> "don't").
 */
public final class VqaAnswerNormalizer {
    private static final List<String> PUNCTUATION = List.of(";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
            "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!");
    /** A period not followed by a digit. */
    private static final Pattern PERIOD = Pattern.compile("\\.(?!\\d)");
    private static final int PERIODS_REMOVED = 32;
    /** A comma between digits ("1,000"); it makes every punctuation mark vanish instead of becoming a space. */
    private static final Pattern DIGIT_COMMA = Pattern.compile("(?<=\\d),+(?=\\d)");
    private static final List<String> ARTICLES = List.of("a", "an", "the");
    private static final Map<String, String> NUMBERS = Map.ofEntries(entry("none", "0"), entry("zero", "0"),
            entry("one", "1"), entry("two", "2"), entry("three", "3"), entry("four", "4"), entry("five", "5"),
            entry("six", "6"), entry("seven", "7"), entry("eight", "8"), entry("nine", "9"), entry("ten", "10"));
    private static final Map<String, String> CONTRACTIONS = VqaContractions.MAP;

    private VqaAnswerNormalizer() {
    }

    public static String normalize(String answer) {
        String text = answer.toLowerCase(Locale.ROOT).replace(",", "").replace("?", "").replace("'s", " 's").strip();
        text = text.replace("\n", " ").replace("\t", " ").strip();
        return numbersAndArticles(punctuation(text));
    }

    private static String punctuation(String in) {
        boolean digitComma = DIGIT_COMMA.matcher(in).find();
        String out = in;
        for (String p : PUNCTUATION) {
            boolean spaced = in.contains(p + " ") || in.contains(" " + p);
            out = out.replace(p, spaced || digitComma ? "" : " ");
        }
        Matcher periods = PERIOD.matcher(out);
        StringBuilder kept = new StringBuilder();
        int removed = 0;
        while (removed < PERIODS_REMOVED && periods.find()) {
            periods.appendReplacement(kept, "");
            removed++;
        }
        periods.appendTail(kept);
        return kept.toString();
    }

    private static String numbersAndArticles(String in) {
        List<String> words = new ArrayList<>();
        for (String word : in.toLowerCase(Locale.ROOT).strip().split("\\s+")) {
            if (word.isEmpty()) {
                continue;
            }
            word = NUMBERS.getOrDefault(word, word);
            if (!ARTICLES.contains(word)) {
                words.add(CONTRACTIONS.getOrDefault(word, word));
            }
        }
        return String.join(" ", words);
    }
}
