package io.convllava.cli.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * MME's scoring, as its {@code eval_tool/calculation.py}: an answer (lower-cased) is yes or no when it is exactly
 * that, else when its first four characters contain "yes" (then) or "no"; otherwise it is neither and wrong. Per
 * subtask: acc (questions right), acc+ (images with both questions right) and score = 100 acc + 100 acc+ (at most
 * 200); perception is the sum of the scores of its 10 subtasks (at most 2000), cognition of its 4 (at most 800).
 */
public final class MmeScorer {
    public static final List<String> PERCEPTION = List.of("existence", "count", "position", "color", "posters",
            "celebrity", "scene", "landmark", "artwork", "OCR");
    public static final List<String> COGNITION = List.of("commonsense_reasoning", "numerical_calculation",
            "text_translation", "code_reasoning");

    private MmeScorer() {
    }

    /** The reading of an answer: "yes", "no", or "other". */
    public static String read(String answer) {
        String a = answer.toLowerCase(Locale.ROOT);
        if (a.equals("yes") || a.equals("no")) {
            return a;
        }
        String prefix = a.substring(0, Math.min(4, a.length()));
        if (prefix.contains("yes")) {
            return "yes";
        }
        return prefix.contains("no") ? "no" : "other";
    }

    /** One subtask's results. */
    public record Subtask(int questions, int right, int images, int imagesBothRight) {
        public double acc() {
            return (double) right / questions;
        }

        public double accPlus() {
            return (double) imagesBothRight / images;
        }

        public double score() {
            return 100 * acc() + 100 * accPlus();
        }
    }

    public static ScoreTable score(List<MmeQuestion> questions, Map<String, String> answers) {
        // subtask -> image -> whether each of its questions was answered right
        Map<String, Map<String, List<Boolean>>> results = new LinkedHashMap<>();
        int neither = 0;
        for (MmeQuestion q : questions) {
            String reading = read(Answers.of(answers, q.id()));
            if (reading.equals("other")) {
                neither++;
            }
            boolean right = reading.equals(q.yes() ? "yes" : "no");
            results.computeIfAbsent(q.subtask(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(q.image().name(), k -> new ArrayList<>()).add(right);
        }
        Map<String, Subtask> subtasks = new LinkedHashMap<>();
        List<String> order = new ArrayList<>(PERCEPTION);
        order.addAll(COGNITION);
        results.keySet().stream().filter(s -> !order.contains(s)).forEach(order::add);
        for (String name : order) {
            Map<String, List<Boolean>> images = results.get(name);
            if (images == null) {
                continue;
            }
            int count = 0;
            int right = 0;
            int bothRight = 0;
            for (List<Boolean> image : images.values()) {
                count += image.size();
                int r = (int) image.stream().filter(b -> b).count();
                right += r;
                bothRight += r == image.size() ? 1 : 0;
            }
            subtasks.put(name, new Subtask(count, right, images.size(), bothRight));
        }
        ScoreTable.Builder table = ScoreTable.builder("mme", "MME: acc and acc+ (%), score = acc + acc+ (max 200 per"
                + " subtask; perception max 2000, cognition max 800)", "acc", "acc_plus", "score");
        subtasks.forEach((name, s) -> table.row(name, s.questions(), 100 * s.acc(), 100 * s.accPlus(), s.score()));
        total(table, "perception", PERCEPTION, subtasks);
        total(table, "cognition", COGNITION, subtasks);
        if (neither > 0) {
            table.note(neither + " answer(s) read as neither yes nor no (scored wrong)");
        }
        List<String> unknown = subtasks.keySet().stream().filter(s -> !PERCEPTION.contains(s) && !COGNITION.contains(s))
                .toList();
        if (!unknown.isEmpty()) {
            table.note("subtasks outside MME's perception and cognition lists, in neither total: " + unknown);
        }
        return table.build();
    }

    private static void total(ScoreTable.Builder table, String name, List<String> group,
                              Map<String, Subtask> subtasks) {
        List<Subtask> present = group.stream().filter(subtasks::containsKey).map(subtasks::get).toList();
        if (!present.isEmpty()) {
            table.row(name, present.stream().mapToInt(Subtask::questions).sum(), null, null,
                    present.stream().mapToDouble(Subtask::score).sum());
        }
    }
}
