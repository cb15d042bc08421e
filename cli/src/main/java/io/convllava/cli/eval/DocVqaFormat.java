package io.convllava.cli.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * DocVQA's annotation file ({@code val_v1.0.json}): {@code {"data": [{"questionId", "question", "image" (relative to
 * the split's folder, e.g. "documents/xyz.png"), "answers": [...], "question_types": [...]}]}}; the score table has a
 * row per question type, as DocVQA reports them.
 */
public final class DocVqaFormat {
    private DocVqaFormat() {
    }

    public static List<VqaQuestion> read(Path data, Path images) {
        List<VqaQuestion> questions = new ArrayList<>();
        for (DataFiles.Entry e : DataFiles.jsonList(data, "data")) {
            List<String> answers = e.optionalStrings("answers").orElseThrow(() -> new BenchmarkFormatException(
                    e.where() + ": no 'answers' (the test split is scored by the DocVQA server; score the val split)"));
            if (answers.isEmpty()) {
                throw new BenchmarkFormatException(e.where() + ": 'answers' is empty");
            }
            questions.add(new VqaQuestion(e.string("questionId"),
                    EvalImage.file(DataFiles.image(images, e.string("image"), e.where())), e.string("question"),
                    answers, e.optionalStrings("question_types").orElse(List.of())));
        }
        return questions;
    }

    /** The questions with the short-answer prompt, scored by {@link AnlsScorer}. */
    public static LoadedBenchmark load(Path data, Path images, PromptStyle style) {
        return VqaQuestion.askedShort(read(data, images), data, style, AnlsScorer::score);
    }
}
