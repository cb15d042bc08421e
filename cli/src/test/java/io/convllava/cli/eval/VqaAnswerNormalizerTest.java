package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The EvalAI normalisation, case by case, each expected value worked out by hand from its rules. */
class VqaAnswerNormalizerTest {

    private static void normalises(String answer, String expected) {
        assertEquals(expected, VqaAnswerNormalizer.normalize(answer), "normalising '" + answer + "'");
    }

    @Test
    void numberWordsBecomeDigitsAndArticlesAndPeriodsGo() {
        normalises("Three.", "3");
        normalises("three", "3");
        normalises("None", "0");
        normalises("An apple", "apple");
        normalises("the Red  Circle.", "red circle");
    }

    @Test
    void periodsBeforeDigitsStayAndCommasInNumbersGo() {
        normalises("3.5", "3.5");
        normalises("1,000", "1000");
        normalises("U.S.A.", "usa");
    }

    @Test
    void possessivesSplitAndContractionsAreRestored() {
        normalises("The dog's bone", "dog 's bone");
        normalises("dont know", "don't know");
        normalises("Its a cant", "its can't");
    }

    @Test
    void punctuationNextToASpaceVanishesElseBecomesASpace() {
        normalises("e-mail", "e mail");
        normalises("a - b", "b");
        normalises("Hello?\tWorld!", "hello world");
        normalises("(yes)", "yes");
    }

    @Test
    void onlyTheFirst32PeriodsAreRemovedAsInTheReference() {
        // re.sub(..., re.UNICODE) passes 32 as the count: the 33rd period survives
        normalises("x" + ".".repeat(33), "x.");
    }
}
