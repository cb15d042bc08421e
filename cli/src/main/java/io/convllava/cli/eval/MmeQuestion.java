package io.convllava.cli.eval;

/**
 * A yes/no question of MME; each image has two (one answered yes, one no).
 *
 * @param subtask existence, count, ..., code_reasoning: the folder it came from
 */
public record MmeQuestion(String id, String subtask, EvalImage image, String question, boolean yes) {
}
