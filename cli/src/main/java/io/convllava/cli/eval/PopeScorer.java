package io.convllava.cli.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * POPE's scoring as LLaVA's {@code eval_pope.py}: an answer is "no" when its first sentence (up to the first period),
 * commas removed and split at spaces, has the word "No", "no" or "not"; anything else is "yes". "yes" is the positive
 * class: accuracy, precision, recall, F1 and the share of "yes" answers, per category and over all questions.
 */
public final class PopeScorer {
    private static final Set<String> NO_WORDS = Set.of("No", "no", "not");

    private PopeScorer() {
    }

    /** The reference reading of a yes/no answer: true for yes. Case matters ("NO" reads as yes, as in LLaVA's). */
    public static boolean readsYes(String answer) {
        String text = answer;
        int period = text.indexOf('.');
        if (period >= 0) {
            text = text.substring(0, period);
        }
        for (String word : text.replace(",", "").split(" ", -1)) {
            if (NO_WORDS.contains(word)) {
                return false;
            }
        }
        return true;
    }

    /** Counts of a set of answers against their labels. */
    public record Counts(int tp, int fp, int tn, int fn) {
        Counts add(boolean label, boolean predicted) {
            return new Counts(tp + (label && predicted ? 1 : 0), fp + (!label && predicted ? 1 : 0),
                    tn + (!label && !predicted ? 1 : 0), fn + (label && !predicted ? 1 : 0));
        }

        public int total() {
            return tp + fp + tn + fn;
        }

        public double accuracy() {
            return ratio(tp + tn, total());
        }

        /** 0 when nothing was answered yes (the reference divides by zero). */
        public double precision() {
            return ratio(tp, tp + fp);
        }

        public double recall() {
            return ratio(tp, tp + fn);
        }

        public double f1() {
            double p = precision();
            double r = recall();
            return p + r == 0 ? 0 : 2 * p * r / (p + r);
        }

        public double yesRatio() {
            return ratio(tp + fp, total());
        }

        private static double ratio(int a, int b) {
            return b == 0 ? 0 : (double) a / b;
        }
    }

    public static ScoreTable score(List<PopeQuestion> questions, Map<String, String> answers) {
        Map<String, Counts> byCategory = new LinkedHashMap<>();
        Counts all = new Counts(0, 0, 0, 0);
        for (PopeQuestion q : questions) {
            boolean predicted = readsYes(Answers.of(answers, q.id()));
            all = all.add(q.yes(), predicted);
            if (q.category() != null) {
                byCategory.merge(q.category(), new Counts(0, 0, 0, 0).add(q.yes(), predicted), PopeScorer::sum);
            }
        }
        ScoreTable.Builder table = ScoreTable.builder("pope", "POPE (%)", "accuracy", "precision", "recall", "f1",
                "yes_ratio");
        List<Map.Entry<String, Counts>> rows = new ArrayList<>(byCategory.entrySet());
        rows.add(Map.entry("all", all));
        for (Map.Entry<String, Counts> row : rows) {
            Counts c = row.getValue();
            table.row(row.getKey(), c.total(), 100 * c.accuracy(), 100 * c.precision(), 100 * c.recall(),
                    100 * c.f1(), 100 * c.yesRatio());
        }
        if (all.tp() + all.fp() == 0) {
            table.note("no answer read as yes: precision is reported as 0");
        }
        return table.build();
    }

    private static Counts sum(Counts a, Counts b) {
        return new Counts(a.tp() + b.tp(), a.fp() + b.fp(), a.tn() + b.tn(), a.fn() + b.fn());
    }
}
