package io.convllava.cli.eval;

import java.util.List;

/**
 * An open question with the answers that count as right (TextVQA: the 10 annotators' answers; DocVQA: the accepted
 * answers).
 *
 * @param categories the rows of the score table the question belongs to, besides "all" (DocVQA's question types)
 */
public record VqaQuestion(String id, EvalImage image, String question, List<String> answers, List<String> categories) {

    public VqaQuestion {
        answers = List.copyOf(answers);
        categories = List.copyOf(categories);
    }
}
