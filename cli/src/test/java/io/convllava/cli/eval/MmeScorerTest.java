package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** MME's answer reading, acc, acc+ and the perception and cognition sums, by hand. */
class MmeScorerTest {

    @Test
    void yesOrNoIsReadFromTheFirstFourCharacters() {
        assertEquals("yes", MmeScorer.read("Yes"));
        assertEquals("yes", MmeScorer.read("yes, it is"));
        assertEquals("no", MmeScorer.read("No"));
        assertEquals("no", MmeScorer.read("Nope"));
        assertEquals("no", MmeScorer.read("Not at all"));
        assertEquals("no", MmeScorer.read("none"));
        // "yes" wins when both are in the prefix
        assertEquals("yes", MmeScorer.read("yesno"));
        assertEquals("other", MmeScorer.read("I think yes"));
        assertEquals("other", MmeScorer.read("There is a dog"));
        assertEquals("other", MmeScorer.read(""));
    }

    private static MmeQuestion q(String id, String subtask, String image, boolean yes) {
        return new MmeQuestion(id, subtask, EvalImage.file(Path.of(image)), "q", yes);
    }

    @Test
    void accAccPlusAndTheTotals() {
        List<MmeQuestion> questions = List.of(
                q("e1", "existence", "1.jpg", true), q("e2", "existence", "1.jpg", false),
                q("e3", "existence", "2.jpg", true), q("e4", "existence", "2.jpg", false),
                q("c1", "count", "3.jpg", true), q("c2", "count", "3.jpg", false),
                q("r1", "code_reasoning", "4.png", true), q("r2", "code_reasoning", "4.png", false),
                q("s1", "shapes", "5.png", true), q("s2", "shapes", "5.png", false));
        Map<String, String> answers = Map.ofEntries(Map.entry("e1", "Yes"), Map.entry("e2", "No"),
                Map.entry("e3", "Yes"), Map.entry("e4", "Yes"), Map.entry("c1", "Two."), Map.entry("c2", "yes"),
                Map.entry("r1", "yes"), Map.entry("r2", "no"), Map.entry("s1", "yes"), Map.entry("s2", "no"));
        ScoreTable t = MmeScorer.score(questions, answers);
        // existence: 3 of 4 right, image 1 both right, image 2 not: 75 + 50
        assertSubtask(t, "existence", 4, 75, 50, 125);
        // count: "Two." is neither, "yes" is wrong
        assertSubtask(t, "count", 2, 0, 0, 0);
        assertSubtask(t, "code_reasoning", 2, 100, 100, 200);
        assertSubtask(t, "shapes", 2, 100, 100, 200);
        assertEquals(125, t.row("perception").value(t, "score"), 1e-9);
        assertNull(t.row("perception").value(t, "acc"));
        assertEquals(200, t.row("cognition").value(t, "score"), 1e-9);
        // rows in MME's order, the unknown subtask after, then the totals
        assertEquals(List.of("existence", "count", "code_reasoning", "shapes", "perception", "cognition"),
                t.rows().stream().map(ScoreTable.Row::name).toList());
        assertEquals(2, t.notes().size(), "one answer neither yes nor no; a subtask outside both totals: " + t.notes());
    }

    private static void assertSubtask(ScoreTable t, String name, int questions, double acc, double accPlus,
                                      double score) {
        ScoreTable.Row r = t.row(name);
        assertEquals(questions, r.questions(), name);
        assertEquals(acc, r.value(t, "acc"), 1e-9, name + " acc");
        assertEquals(accPlus, r.value(t, "acc_plus"), 1e-9, name + " acc+");
        assertEquals(score, r.value(t, "score"), 1e-9, name + " score");
    }
}
