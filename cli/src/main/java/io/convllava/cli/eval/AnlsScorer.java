package io.convllava.cli.eval;

import java.util.List;
import java.util.Map;

/**
 * DocVQA's ANLS (average normalised Levenshtein similarity), as VLMEvalKit computes it for the ConvLLaVA paper: answer
 * and truth lower-cased with white space collapsed; NL = edit distance / the longer of the two texts as given; a
 * question scores max over its accepted answers of 1 - NL, kept when at least 0.5 and 0 otherwise (the threshold
 * 0.5 itself is kept; DocVQA's server drops it: a difference only at exactly NL = 0.5).
 */
public final class AnlsScorer {
    public static final double THRESHOLD = 0.5;

    private AnlsScorer() {
    }

    /** The normalised Levenshtein distance between a truth and an answer. */
    public static double distance(String truth, String answer) {
        String t = collapsed(truth);
        String a = collapsed(answer);
        int length = Math.max(truth.length(), answer.length());
        return length == 0 ? 0 : (double) levenshtein(t, a) / length;
    }

    /** The question's score: 1 - the smallest distance to an accepted answer, or 0 below {@link #THRESHOLD}. */
    public static double anls(String answer, List<String> truths) {
        double best = truths.stream().mapToDouble(t -> distance(t, answer)).min().orElse(1);
        double similarity = 1 - best;
        return similarity < THRESHOLD ? 0 : similarity;
    }

    public static ScoreTable score(List<VqaQuestion> questions, Map<String, String> answers) {
        CategoryMeans means = new CategoryMeans();
        for (VqaQuestion q : questions) {
            means.add(q.categories(), anls(Answers.of(answers, q.id()), q.answers()));
        }
        ScoreTable.Builder table = ScoreTable.builder("docvqa", "ANLS (%)", "anls");
        means.addRows(table, 100);
        return table.build();
    }

    private static String collapsed(String s) {
        return String.join(" ", s.strip().toLowerCase(java.util.Locale.ROOT).split("\\s+")).strip();
    }

    /** Edit distance by insertions, deletions and substitutions of UTF-16 units. */
    static int levenshtein(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }
}
