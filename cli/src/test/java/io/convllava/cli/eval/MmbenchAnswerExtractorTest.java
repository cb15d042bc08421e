package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** VLMEvalKit's exact matching of an answer to an option: letters first, then option texts. */
class MmbenchAnswerExtractorTest {
    private static final Map<String, String> COUNTS = options("One", "Two", "Three");

    private static Map<String, String> options(String... texts) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < texts.length; i++) {
            options.put(String.valueOf((char) ('A' + i)), texts[i]);
        }
        return options;
    }

    private static void chooses(String answer, Map<String, String> options, String expected) {
        assertEquals(Optional.ofNullable(expected), MmbenchAnswerExtractor.choice(answer, options), answer);
    }

    @Test
    void aSingleLetterChoosesItsOption() {
        chooses("B", COUNTS, "B");
        chooses("B. Two", COUNTS, "B");
        chooses("(C)", COUNTS, "C");
        chooses("The answer is A", COUNTS, "A");
        // the article reads as option A, as in the reference
        chooses("A triangle.", options("circle", "square", "triangle"), "A");
        // a letter that is not an option does not count
        chooses("D", COUNTS, null);
    }

    @Test
    void withoutALetterTheOptionTextDecides() {
        chooses("Three.", COUNTS, "C");
        chooses("there are TWO shapes", COUNTS, "B");
    }

    @Test
    void tiesChooseNothing() {
        // two letters, and both texts appear
        chooses("A or B", COUNTS, null);
        chooses("One or two", COUNTS, null);
        // "red" is inside "reddish": both options match
        chooses("reddish", options("red", "reddish"), null);
        chooses("[0.34, 0.12]", COUNTS, null);
    }

    @Test
    void refusalsChooseZ() {
        chooses("Z", COUNTS, "Z");
        chooses("Cannot determine the answer from the image", COUNTS, "Z");
    }
}
