package io.convllava.cli.eval;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

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

    /** {@code questions} (read from {@code data}) asked with the short-answer prompt and scored by {@code scorer}. */
    static LoadedBenchmark askedShort(List<VqaQuestion> questions, Path data, PromptStyle style,
                                      BiFunction<List<VqaQuestion>, Map<String, String>, ScoreTable> scorer) {
        List<EvalQuestion> asked = questions.stream().map(q -> new EvalQuestion(q.id(), q.image(),
                ReferencePrompts.shortAnswer(q.question(), style))).toList();
        DataFiles.requireUniqueIds(asked, data);
        return new LoadedBenchmark(asked, answers -> scorer.apply(questions, answers));
    }
}
