package io.convllava.cli.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * POPE's files ({@code coco_pope_random.json} and its kind): JSON lines {@code {"question_id", "image", "text",
 * "label": "yes"|"no"}}, an optional {@code "category"} (random, popular, adversarial) per line; without one the
 * category comes from the file name ({@code *_pope_<category>.json}).
 */
public final class PopeFormat {
    private static final Pattern CATEGORY_IN_NAME = Pattern.compile(".*_pope_([A-Za-z]+)\\.jsonl?");

    private PopeFormat() {
    }

    public static List<PopeQuestion> read(Path data, Path images) {
        Matcher named = CATEGORY_IN_NAME.matcher(data.getFileName().toString());
        String fileCategory = named.matches() ? named.group(1) : null;
        List<PopeQuestion> questions = new ArrayList<>();
        for (DataFiles.Entry e : DataFiles.jsonLines(data)) {
            String label = e.string("label").strip().toLowerCase(Locale.ROOT);
            if (!label.equals("yes") && !label.equals("no")) {
                throw new BenchmarkFormatException(e.where() + ": label '" + label + "' should be yes or no");
            }
            questions.add(new PopeQuestion(e.string("question_id"),
                    EvalImage.file(DataFiles.image(images, e.string("image"), e.where())), e.string("text"),
                    label.equals("yes"), e.optionalString("category").orElse(fileCategory)));
        }
        return questions;
    }

    /** The questions with their reference prompts, scored by {@link PopeScorer}. */
    public static LoadedBenchmark load(Path data, Path images, PromptStyle style) {
        List<PopeQuestion> questions = read(data, images);
        List<EvalQuestion> asked = questions.stream().map(q -> new EvalQuestion(q.id(), q.image(),
                ReferencePrompts.shortAnswer(q.question(), style))).toList();
        DataFiles.requireUniqueIds(asked, data);
        return new LoadedBenchmark(asked, answers -> PopeScorer.score(questions, answers));
    }
}
