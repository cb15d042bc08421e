package io.convllava.cli.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * MME's release folder ({@code MME_Benchmark_release_version}): a folder per subtask, holding either
 * {@code images/} and {@code questions_answers_YN/} or the images beside their question files; each
 * {@code <image>.txt} has a line "question TAB Yes|No" per question about {@code <image>.jpg|.png}. A question's id is
 * "subtask/image#line".
 */
public final class MmeFormat {
    private static final List<String> EXTENSIONS = List.of(".jpg", ".png", ".jpeg");

    private MmeFormat() {
    }

    public static List<MmeQuestion> read(Path root) {
        if (!Files.isDirectory(root)) {
            throw new BenchmarkFormatException("--data " + root + " should be MME's folder (a folder per subtask)");
        }
        List<MmeQuestion> questions = new ArrayList<>();
        for (Path subtask : sorted(root)) {
            if (!Files.isDirectory(subtask)) {
                continue;
            }
            boolean split = Files.isDirectory(subtask.resolve("images"));
            Path imageDir = split ? subtask.resolve("images") : subtask;
            Path questionDir = split ? subtask.resolve("questions_answers_YN") : subtask;
            for (Path file : sorted(questionDir)) {
                if (file.getFileName().toString().endsWith(".txt")) {
                    read(subtask.getFileName().toString(), file, imageDir, questions);
                }
            }
        }
        if (questions.isEmpty()) {
            throw new BenchmarkFormatException(root + " holds no MME questions (expected <subtask>/<image>.txt files)");
        }
        return questions;
    }

    private static void read(String subtask, Path file, Path imageDir, List<MmeQuestion> into) {
        String base = file.getFileName().toString();
        base = base.substring(0, base.length() - ".txt".length());
        Path image = null;
        for (String extension : EXTENSIONS) {
            if (Files.isRegularFile(imageDir.resolve(base + extension))) {
                image = imageDir.resolve(base + extension);
                break;
            }
        }
        if (image == null) {
            throw new BenchmarkFormatException(file + ": no image " + base + ".jpg or .png in " + imageDir);
        }
        List<String> lines = DataFiles.lines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + " line " + (i + 1);
            String[] parts = line.split("\t");
            if (parts.length != 2) {
                throw new BenchmarkFormatException(where + ": expected 'question<TAB>Yes|No', found " + parts.length
                        + " tab-separated field(s)");
            }
            String answer = parts[1].strip().toLowerCase(Locale.ROOT);
            if (!answer.equals("yes") && !answer.equals("no")) {
                throw new BenchmarkFormatException(where + ": answer '" + parts[1] + "' should be Yes or No");
            }
            into.add(new MmeQuestion(subtask + "/" + image.getFileName() + "#" + (i + 1), subtask,
                    EvalImage.file(image), parts[0].strip(), answer.equals("yes")));
        }
    }

    /** The questions with LLaVA's MME prompt, scored by {@link MmeScorer}. */
    public static LoadedBenchmark load(Path root, PromptStyle style) {
        List<MmeQuestion> questions = read(root);
        List<EvalQuestion> asked = questions.stream().map(q -> new EvalQuestion(q.id(), q.image(),
                ReferencePrompts.mme(q.question(), style))).toList();
        return new LoadedBenchmark(asked, answers -> MmeScorer.score(questions, answers));
    }

    private static List<Path> sorted(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }
}
