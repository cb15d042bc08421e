package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * VQA accuracy: with k of 10 human answers matching, the mean over the 10 leave-one-out subsets of min(1, matches / 3)
 * is (k * min(1, (k-1)/3) + (10-k) * min(1, k/3)) / 10: 0, 0.3, 0.6, 0.9, then 1.
 */
class VqaAccuracyScorerTest {

    private static List<String> humans(int matching, String answer) {
        List<String> answers = new ArrayList<>(Collections.nCopies(matching, answer));
        while (answers.size() < 10) {
            answers.add("something else " + answers.size());
        }
        return answers;
    }

    @Test
    void theShareOfHumansAgreeingSetsTheScore() {
        assertEquals(0.0, VqaAccuracyScorer.accuracy("three", humans(0, "three")), 1e-12);
        assertEquals(0.3, VqaAccuracyScorer.accuracy("three", humans(1, "three")), 1e-12);
        assertEquals(0.6, VqaAccuracyScorer.accuracy("three", humans(2, "three")), 1e-12);
        assertEquals(0.9, VqaAccuracyScorer.accuracy("three", humans(3, "three")), 1e-12);
        assertEquals(1.0, VqaAccuracyScorer.accuracy("three", humans(4, "three")), 1e-12);
        assertEquals(1.0, VqaAccuracyScorer.accuracy("three", humans(10, "three")), 1e-12);
    }

    @Test
    void answersAreComparedAfterNormalisation() {
        // "Three." and "3" and "three" are all "3"
        List<String> mixed = new ArrayList<>(List.of("3", "three", "Three"));
        mixed.addAll(Collections.nCopies(7, "four"));
        assertEquals(0.9, VqaAccuracyScorer.accuracy("Three.", mixed), 1e-12);
        assertEquals(1.0, VqaAccuracyScorer.accuracy("4", mixed), 1e-12);
    }

    @Test
    void theTableHasARowPerCategoryAndAll() {
        EvalImage image = EvalImage.file(Path.of("unused.png"));
        List<VqaQuestion> questions = List.of(
                new VqaQuestion("1", image, "How many?", humans(10, "three"), List.of("count")),
                new VqaQuestion("2", image, "How many?", humans(2, "two"), List.of("count")),
                new VqaQuestion("3", image, "What color?", humans(10, "blue"), List.of("color")));
        ScoreTable table = VqaAccuracyScorer.score(questions, Map.of("1", "Three.", "2", " two ", "3", "Red."));
        // count: (1 + 0.6) / 2 = 0.8; color: 0; all: 1.6 / 3
        assertEquals(80.0, table.row("count").value(table, "accuracy"), 1e-9);
        assertEquals(2, table.row("count").questions());
        assertEquals(0.0, table.row("color").value(table, "accuracy"), 1e-9);
        assertEquals(100 * 1.6 / 3, table.row("all").value(table, "accuracy"), 1e-9);
    }
}
