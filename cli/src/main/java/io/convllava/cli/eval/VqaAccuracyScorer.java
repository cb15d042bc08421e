package io.convllava.cli.eval;

import java.util.List;
import java.util.Map;

/**
 * TextVQA's VQA accuracy, as LLaVA's {@code m4c_evaluator.py}: answers are compared after
 * {@link VqaAnswerNormalizer normalisation}; an answer matching k of the 10 human answers scores the mean, over the
 * 10 ways of leaving one human answer out, of min(1, matches among the other 9 / 3): 0.3 for k = 1, 0.6 for k = 2,
 * 0.9 for k = 3, 1 from k = 4.
 */
public final class VqaAccuracyScorer {
    private VqaAccuracyScorer() {
    }

    public static double accuracy(String answer, List<String> humanAnswers) {
        String predicted = VqaAnswerNormalizer.normalize(answer);
        List<String> truths = humanAnswers.stream().map(VqaAnswerNormalizer::normalize).toList();
        int matches = (int) truths.stream().filter(predicted::equals).count();
        if (matches == 0) {
            return 0;
        }
        double sum = 0;
        for (String left : truths) {
            int others = matches - (left.equals(predicted) ? 1 : 0);
            sum += Math.min(1.0, others / 3.0);
        }
        return sum / truths.size();
    }

    public static ScoreTable score(List<VqaQuestion> questions, Map<String, String> answers) {
        CategoryMeans means = new CategoryMeans();
        for (VqaQuestion q : questions) {
            means.add(q.categories(), accuracy(Answers.of(answers, q.id()), q.answers()));
        }
        ScoreTable.Builder table = ScoreTable.builder("textvqa", "VQA accuracy (%)", "accuracy");
        means.addRows(table, 100);
        return table.build();
    }
}
