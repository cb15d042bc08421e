package io.convllava.cli.eval;

/**
 * One request of a benchmark run: the prompt (the benchmark's question in its reference wording) about one image.
 *
 * @param id unique within the benchmark; the key of the predictions file
 */
public record EvalQuestion(String id, EvalImage image, String prompt) {
}
