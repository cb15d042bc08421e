package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** POPE's reading of answers and its metrics, on hand-counted confusion matrices. */
class PopeScorerTest {
    private static final EvalImage IMAGE = EvalImage.file(Path.of("unused.png"));

    @Test
    void anAnswerIsNoWhenItsFirstSentenceSaysNoOrNot() {
        assertTrue(PopeScorer.readsYes("Yes"));
        assertFalse(PopeScorer.readsYes("No"));
        assertFalse(PopeScorer.readsYes("No."));
        assertFalse(PopeScorer.readsYes("no, there is not"));
        assertFalse(PopeScorer.readsYes("There is no dog in the image."));
        // only the first sentence counts
        assertTrue(PopeScorer.readsYes("Yes. There is no cat."));
        // words are matched exactly, case included, as in the reference
        assertTrue(PopeScorer.readsYes("NO"));
        assertTrue(PopeScorer.readsYes("Not sure"));
        assertTrue(PopeScorer.readsYes("Nothing"));
        assertTrue(PopeScorer.readsYes("2.5 no"));
        // anything else is yes
        assertTrue(PopeScorer.readsYes("A circle."));
        assertTrue(PopeScorer.readsYes(""));
    }

    @Test
    void metricsPerCategoryAndOverall() {
        List<PopeQuestion> questions = List.of(
                new PopeQuestion("1", IMAGE, "q", true, "random"),
                new PopeQuestion("2", IMAGE, "q", true, "random"),
                new PopeQuestion("3", IMAGE, "q", false, "random"),
                new PopeQuestion("4", IMAGE, "q", false, "random"),
                new PopeQuestion("5", IMAGE, "q", true, "adversarial"),
                new PopeQuestion("6", IMAGE, "q", false, "adversarial"));
        Map<String, String> answers = Map.of("1", "Yes", "2", "No", "3", "Yes", "4", "No", "5", "Yes", "6", "Yes.");
        ScoreTable t = PopeScorer.score(questions, answers);
        // random: TP 1, FN 1, FP 1, TN 1
        assertRow(t, "random", 4, 50, 50, 50, 50, 50);
        // adversarial: TP 1, FP 1
        assertRow(t, "adversarial", 2, 50, 50, 100, 100 * 2 * 0.5 / 1.5, 100);
        // all: TP 2, FP 2, TN 1, FN 1: precision 2/4, recall 2/3, F1 2PR/(P+R) = 4/7
        assertRow(t, "all", 6, 50, 50, 100 * 2.0 / 3, 100 * 4.0 / 7, 100 * 4.0 / 6);
        assertEquals(List.of(), t.notes());
    }

    @Test
    void noYesAtAllGivesPrecisionZeroAndSaysSo() {
        List<PopeQuestion> questions = List.of(new PopeQuestion("1", IMAGE, "q", true, null),
                new PopeQuestion("2", IMAGE, "q", false, null));
        ScoreTable t = PopeScorer.score(questions, Map.of("1", "No", "2", "no"));
        assertRow(t, "all", 2, 50, 0, 0, 0, 0);
        assertEquals(1, t.rows().size(), "no categories: only the overall row");
        assertEquals(1, t.notes().size());
    }

    private static void assertRow(ScoreTable t, String row, int questions, double accuracy, double precision,
                                  double recall, double f1, double yesRatio) {
        ScoreTable.Row r = t.row(row);
        assertEquals(questions, r.questions(), row);
        assertEquals(accuracy, r.value(t, "accuracy"), 1e-9, row + " accuracy");
        assertEquals(precision, r.value(t, "precision"), 1e-9, row + " precision");
        assertEquals(recall, r.value(t, "recall"), 1e-9, row + " recall");
        assertEquals(f1, r.value(t, "f1"), 1e-9, row + " f1");
        assertEquals(yesRatio, r.value(t, "yes_ratio"), 1e-9, row + " yes ratio");
    }
}
