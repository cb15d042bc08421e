package io.convllava.cli.eval;

import io.convllava.coordinator.grounding.BoundingBox;
import io.convllava.coordinator.grounding.GroundingParser;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RefCOCO's scoring as ConvLLaVA's {@code evaluate_grounding.py}: the answer's box (relative to the padded square) is
 * mapped back to the original image's pixels by {@link GroundingParser}; an answer without a box counts as the box
 * (0, 0, 0, 0); a hit is IoU with the true box of at least 0.5. Acc@0.5 and the mean IoU, per category and overall.
 */
public final class RefCocoScorer {
    public static final double HIT_IOU = 0.5;

    private RefCocoScorer() {
    }

    /** The IoU of an answer with the true box of {@code q}: 0 when the answer holds no box. */
    public static double iou(RefCocoQuestion q, String answer) {
        BoundingBox truth = new BoundingBox(q.box()[0], q.box()[1], q.box()[2], q.box()[3], null, 0);
        return GroundingParser.parse(answer, q.width(), q.height(), 0).map(truth::iou).orElse(0.0);
    }

    public static ScoreTable score(List<RefCocoQuestion> questions, Map<String, String> answers) {
        Map<String, List<Double>> byCategory = new LinkedHashMap<>();
        List<Double> all = new ArrayList<>();
        int noBox = 0;
        for (RefCocoQuestion q : questions) {
            String answer = Answers.of(answers, q.id());
            if (GroundingParser.parse(answer, q.width(), q.height(), 0).isEmpty()) {
                noBox++;
            }
            double iou = iou(q, answer);
            all.add(iou);
            if (q.category() != null) {
                byCategory.computeIfAbsent(q.category(), k -> new ArrayList<>()).add(iou);
            }
        }
        ScoreTable.Builder table = ScoreTable.builder("refcoco",
                "Acc@0.5 (%: IoU >= 0.5 with the true box), mean IoU (0-1)", "accuracy", "mean_iou");
        byCategory.forEach((name, ious) -> row(table, name, ious));
        row(table, "all", all);
        if (noBox > 0) {
            table.note(noBox + " answer(s) held no box [x1, y1, x2, y2] (scored as IoU 0)");
        }
        return table.build();
    }

    private static void row(ScoreTable.Builder table, String name, List<Double> ious) {
        long hits = ious.stream().filter(iou -> iou >= HIT_IOU).count();
        double mean = ious.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        table.row(name, ious.size(), 100.0 * hits / ious.size(), mean);
    }
}
