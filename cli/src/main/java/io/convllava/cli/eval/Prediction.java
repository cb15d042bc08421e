package io.convllava.cli.eval;

/**
 * One answered question, a line of the predictions file.
 *
 * @param prompt what was asked (a rerun checks that it asks the same)
 * @param text   the model's answer
 */
public record Prediction(String id, String image, String prompt, String text) {
}
