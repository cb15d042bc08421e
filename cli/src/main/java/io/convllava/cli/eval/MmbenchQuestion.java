package io.convllava.cli.eval;

import java.util.Map;

/**
 * One round of an MMBench question: the question with its options in one order. Circular evaluation asks every
 * question once per option, the options rotated each round; the question counts as right only when every round is.
 *
 * @param index   this round's index: the question's own for round 0, + 1,000,000 per further round (VLMEvalKit's
 *                numbering)
 * @param group   the question's index, shared by its rounds
 * @param hint    the context given before the question, null for none
 * @param options letter -> option text, in order
 * @param answer  the letter of the right option in this round
 */
public record MmbenchQuestion(long index, long group, EvalImage image, String hint, String question,
                              Map<String, String> options, String answer, String category, String l2Category) {

    public MmbenchQuestion {
        options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
    }
}
