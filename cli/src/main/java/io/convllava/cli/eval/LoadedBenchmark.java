package io.convllava.cli.eval;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A benchmark read from its files: the questions to ask, and the reference scoring of their answers.
 *
 * @param scoring from the answers by question id (every question answered) to the score table
 */
public record LoadedBenchmark(List<EvalQuestion> questions, Function<Map<String, String>, ScoreTable> scoring) {

    public LoadedBenchmark {
        questions = List.copyOf(questions);
    }

    public ScoreTable score(Map<String, String> answers) {
        return scoring.apply(answers);
    }
}
