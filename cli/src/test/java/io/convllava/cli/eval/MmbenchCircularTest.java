package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MMBench's TSV, the rotated rounds of circular evaluation and their scoring, on a hand-made file. */
class MmbenchCircularTest {
    private static final String IMAGE = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3});

    @TempDir
    Path dir;

    private Path tsv(String... lines) throws IOException {
        Path file = dir.resolve("mmb.tsv");
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    @Test
    void eachQuestionIsAskedOncePerOptionWithTheOptionsRotated() throws IOException {
        Path file = tsv("index\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\tl2-category\timage",
                "7\tHow many?\tnan\tOne\tTwo\tThree\tnan\tB\tcount\tperception\t" + IMAGE,
                "8\tWhich color?\tLook closely.\tRed\tBlue\t\t\tA\tcolor\tperception\t" + IMAGE);
        List<MmbenchQuestion> rounds = MmbenchFormat.read(file, dir);
        assertEquals(5, rounds.size(), "3 rounds for 3 options, 2 for 2");
        MmbenchQuestion r0 = rounds.get(0);
        MmbenchQuestion r1 = rounds.get(1);
        MmbenchQuestion r2 = rounds.get(2);
        assertEquals(List.of(7L, 1_000_007L, 2_000_007L), List.of(r0.index(), r1.index(), r2.index()));
        assertEquals(Map.of("A", "One", "B", "Two", "C", "Three"), r0.options());
        assertEquals("B", r0.answer());
        assertEquals(List.of("Two", "Three", "One"), List.copyOf(r1.options().values()));
        assertEquals("A", r1.answer());
        assertEquals(List.of("Three", "One", "Two"), List.copyOf(r2.options().values()));
        assertEquals("C", r2.answer());
        assertNull(r0.hint(), "nan is no hint");
        assertEquals("Look closely.", rounds.get(3).hint());
        assertEquals(7L, r2.group());

        assertEquals("How many?\nA. One\nB. Two\nC. Three\n" + ReferencePrompts.OPTION_LETTER,
                ReferencePrompts.multipleChoice(r0.hint(), r0.question(), r0.options(), PromptStyle.REFERENCE));
        assertEquals("Look closely.\nWhich color?\nA. Red\nB. Blue\n" + ReferencePrompts.OPTION_LETTER,
                ReferencePrompts.multipleChoice(rounds.get(3).hint(), "Which color?", rounds.get(3).options(),
                        PromptStyle.REFERENCE));
        assertEquals("Look closely.\nWhich color?", ReferencePrompts.multipleChoice("Look closely.", "Which color?",
                rounds.get(3).options(), PromptStyle.BARE));
    }

    @Test
    void aQuestionIsRightOnlyWhenEveryRoundIs() throws IOException {
        Path file = tsv("index\tquestion\tA\tB\tC\tanswer\tcategory\timage",
                "7\tHow many?\tOne\tTwo\tThree\tB\tcount\t" + IMAGE,
                "8\tWhich color?\tRed\tBlue\t\tA\tcolor\t" + IMAGE);
        List<MmbenchQuestion> rounds = MmbenchFormat.read(file, dir);
        Map<String, String> answers = new HashMap<>();
        // question 7: the text "Two" each round, whichever letter it has
        answers.put("7", "Two.");
        answers.put("1000007", "A");
        answers.put("2000007", "two");
        // question 8: right in round 0 (Red is A), wrong in round 1 (Red is B there)
        answers.put("8", "A");
        answers.put("1000008", "A");
        ScoreTable t = MmbenchScorer.score(rounds, answers);
        assertEquals(100, t.row("count").value(t, "circular"), 1e-9);
        assertEquals(0, t.row("color").value(t, "circular"), 1e-9);
        assertEquals(100, t.row("color").value(t, "first_round"), 1e-9);
        assertEquals(50, t.row("all").value(t, "circular"), 1e-9);
        assertEquals(100, t.row("all").value(t, "first_round"), 1e-9);
        assertEquals(2, t.row("all").questions());
        assertTrue(t.notes().isEmpty(), t.notes().toString());
    }

    @Test
    void roundsGivenInTheFileAreUsedAsTheyAreWithImagesByReference() throws IOException {
        // VLMEvalKit's layout: the rounds are rows of their own (index + 1,000,000 k), the image given once
        Path file = tsv("index\tquestion\tA\tB\tanswer\timage",
                "3\tIs it?\tyes\tno\tA\t" + IMAGE,
                "1000003\tIs it?\tno\tyes\tB\t3");
        List<MmbenchQuestion> rounds = MmbenchFormat.read(file, dir);
        assertEquals(2, rounds.size());
        assertEquals(3L, rounds.get(1).group());
        assertEquals("B", rounds.get(1).answer());
        assertEquals(List.of((byte) 1, (byte) 2, (byte) 3), bytes(rounds.get(1)));
        ScoreTable t = MmbenchScorer.score(rounds, Map.of("3", "yes", "1000003", "B"));
        assertEquals(100, t.row("all").value(t, "circular"), 1e-9);
    }

    @Test
    void quotedFieldsMayHoldTabsAndLineBreaks() throws IOException {
        Path file = tsv("index\tquestion\tA\tB\tanswer\timage",
                "1\t\"Read this:\ta \"\"quote\"\"\nthen answer\"\tx\ty\tA\t" + IMAGE);
        MmbenchQuestion q = MmbenchFormat.read(file, dir).get(0);
        assertEquals("Read this:\ta \"quote\"\nthen answer", q.question());
    }

    @Test
    void mistakesNameTheLineAndColumn() throws IOException {
        Path noAnswer = tsv("index\tquestion\tA\tB\tanswer\timage", "1\tq\tx\ty\tC\t" + IMAGE);
        BenchmarkFormatException e = assertThrows(BenchmarkFormatException.class,
                () -> MmbenchFormat.read(noAnswer, dir));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("answer 'C'"), e.getMessage());
        Path noColumn = tsv("index\tquestion\tA\tB\timage", "1\tq\tx\ty\t" + IMAGE);
        e = assertThrows(BenchmarkFormatException.class, () -> MmbenchFormat.read(noColumn, dir));
        assertTrue(e.getMessage().contains("no column 'answer'"), e.getMessage());
    }

    private static List<Byte> bytes(MmbenchQuestion q) throws IOException {
        byte[] b = q.image().read();
        return List.of(b[0], b[1], b[2]);
    }
}
