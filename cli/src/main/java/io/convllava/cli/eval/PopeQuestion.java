package io.convllava.cli.eval;

/**
 * A POPE question: "Is there a {object} in the image?" and its label.
 *
 * @param category random, popular or adversarial (how the absent object was sampled); null when unknown
 */
public record PopeQuestion(String id, EvalImage image, String question, boolean yes, String category) {
}
