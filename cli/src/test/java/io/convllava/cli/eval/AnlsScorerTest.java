package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** ANLS with hand-computed edit distances. */
class AnlsScorerTest {

    @Test
    void caseAndWhiteSpaceDoNotCount() {
        assertEquals(1.0, AnlsScorer.anls("The  Cat", List.of(" the cat ")), 1e-12);
    }

    @Test
    void similarityIsOneMinusTheEditDistanceOverTheLongerText() {
        // kitten -> sitting: 3 edits, 7 characters
        assertEquals(1 - 3.0 / 7, AnlsScorer.anls("kitten", List.of("sitting")), 1e-12);
        assertEquals(3, AnlsScorer.levenshtein("kitten", "sitting"));
        assertEquals(0, AnlsScorer.levenshtein("", ""));
        assertEquals(4, AnlsScorer.levenshtein("", "four"));
    }

    @Test
    void theThresholdItselfIsKeptAndBelowItScoresZero() {
        // abcd -> abxy: 2 of 4, similarity exactly 0.5: kept (VLMEvalKit; the DocVQA server would give 0)
        assertEquals(0.5, AnlsScorer.anls("abxy", List.of("abcd")), 1e-12);
        // abcd -> axyz: 3 of 4, similarity 0.25: 0
        assertEquals(0.0, AnlsScorer.anls("axyz", List.of("abcd")), 1e-12);
    }

    @Test
    void theBestAcceptedAnswerCounts() {
        assertEquals(1.0, AnlsScorer.anls("Three.", List.of("3", "three", "Three.")), 1e-12);
        // "three." vs "three": 1 edit over 6 characters
        assertEquals(1 - 1.0 / 6, AnlsScorer.anls("Three.", List.of("3", "three")), 1e-12);
    }

    @Test
    void theLengthIsThatOfTheTextsAsGiven() {
        // "ab  c" collapses to "ab c", 1 edit from "ab d", but the length is the truth's 5 characters as written
        assertEquals(0.2, AnlsScorer.distance("ab  c", "ab d"), 1e-12);
    }

    @Test
    void theTableAveragesPerQuestionType() {
        EvalImage image = EvalImage.file(Path.of("unused.png"));
        List<VqaQuestion> questions = List.of(
                new VqaQuestion("1", image, "q", List.of("sitting"), List.of("form", "handwritten")),
                new VqaQuestion("2", image, "q", List.of("abcd"), List.of("form")));
        ScoreTable table = AnlsScorer.score(questions, Map.of("1", "kitten", "2", "axyz"));
        assertEquals(100 * (1 - 3.0 / 7) / 2, table.row("form").value(table, "anls"), 1e-9);
        assertEquals(100 * (1 - 3.0 / 7), table.row("handwritten").value(table, "anls"), 1e-9);
        assertEquals(100 * (1 - 3.0 / 7) / 2, table.row("all").value(table, "anls"), 1e-9);
        assertEquals(2, table.row("all").questions());
    }
}
