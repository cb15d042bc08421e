package io.convllava.cli.eval;

import java.util.Map;

/** The model's answers by question id, as the scorers read them. */
final class Answers {
    private Answers() {
    }

    /**
     * The answer to question {@code id}, stripped of surrounding white space (the reference decodes with
     * {@code .strip()}).
     *
     * @throws IllegalStateException when the question has no answer: a scorer needs every one
     */
    static String of(Map<String, String> answers, String id) {
        String answer = answers.get(id);
        if (answer == null) {
            throw new IllegalStateException("question '" + id + "' has no answer to score");
        }
        return answer.strip();
    }
}
