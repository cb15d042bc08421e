package io.convllava.cli.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Per-question scores gathered by category (in order of first appearance) and over all questions. */
final class CategoryMeans {
    private final Map<String, List<Double>> byCategory = new LinkedHashMap<>();
    private final List<Double> all = new ArrayList<>();

    void add(List<String> categories, double score) {
        all.add(score);
        for (String c : categories) {
            byCategory.computeIfAbsent(c, k -> new ArrayList<>()).add(score);
        }
    }

    /** A row per category, then "all": the mean score times {@code scale}. */
    void addRows(ScoreTable.Builder table, double scale) {
        byCategory.forEach((name, scores) -> table.row(name, scores.size(), scale * mean(scores)));
        table.row("all", all.size(), scale * mean(all));
    }

    private static double mean(List<Double> scores) {
        return scores.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    }
}
