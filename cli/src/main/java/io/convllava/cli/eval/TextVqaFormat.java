package io.convllava.cli.eval;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * TextVQA's annotation file ({@code TextVQA_0.5.1_val.json}): {@code {"data": [{"question_id", "question",
 * "image_id", "answers": [10 answers]}]}}; the image is {@code <images>/<image_id>.jpg} (or {@code .png}). An optional
 * {@code "category"} per question adds a row to the score table.
 */
public final class TextVqaFormat {
    static final int HUMAN_ANSWERS = 10;
    private static final List<String> EXTENSIONS = List.of(".jpg", ".png", ".jpeg");

    private TextVqaFormat() {
    }

    public static List<VqaQuestion> read(Path data, Path images) {
        List<VqaQuestion> questions = new ArrayList<>();
        for (DataFiles.Entry e : DataFiles.jsonList(data, "data")) {
            List<String> answers = e.optionalStrings("answers").orElseThrow(() -> new BenchmarkFormatException(
                    e.where() + ": no 'answers' (the test split's answers are kept by the EvalAI server; score the val"
                            + " split)"));
            if (answers.size() != HUMAN_ANSWERS) {
                throw new BenchmarkFormatException(e.where() + ": " + answers.size() + " answers; VQA accuracy needs"
                        + " the " + HUMAN_ANSWERS + " human answers of each question");
            }
            questions.add(new VqaQuestion(e.string("question_id"), EvalImage.file(image(images, e)),
                    e.string("question"), answers, e.optionalString("category").map(List::of).orElse(List.of())));
        }
        return questions;
    }

    /** The questions with the short-answer prompt (no OCR tokens), scored by {@link VqaAccuracyScorer}. */
    public static LoadedBenchmark load(Path data, Path images, PromptStyle style) {
        return VqaQuestion.askedShort(read(data, images), data, style, VqaAccuracyScorer::score);
    }

    private static Path image(Path images, DataFiles.Entry e) {
        String id = e.string("image_id");
        for (String extension : EXTENSIONS) {
            Path file = images.resolve(id + extension);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new BenchmarkFormatException(e.where() + ": no image " + id + ".jpg (or .png) under --images " + images);
    }
}
