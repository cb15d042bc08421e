package io.convllava.cli.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * MMBench's circular evaluation: a question is right only when every round (its options rotated) chose the right
 * option ({@link MmbenchAnswerExtractor}). Circular accuracy per category, per l2-category and overall, beside the
 * accuracy of the first round alone.
 */
public final class MmbenchScorer {
    private MmbenchScorer() {
    }

    public static ScoreTable score(List<MmbenchQuestion> rounds, Map<String, String> answers) {
        Map<Long, List<MmbenchQuestion>> groups = new LinkedHashMap<>();
        for (MmbenchQuestion q : rounds) {
            groups.computeIfAbsent(q.group(), k -> new ArrayList<>()).add(q);
        }
        Map<String, int[]> byCategory = new LinkedHashMap<>();
        Map<String, int[]> byL2 = new LinkedHashMap<>();
        int[] all = new int[3];
        int unclear = 0;
        for (List<MmbenchQuestion> group : groups.values()) {
            boolean everyRound = true;
            boolean first = false;
            MmbenchQuestion firstRound = group.stream().min((a, b) -> Long.compare(a.index(), b.index())).orElseThrow();
            for (MmbenchQuestion q : group) {
                Optional<String> choice = MmbenchAnswerExtractor.choice(Answers.of(answers, Long.toString(q.index())),
                        q.options());
                if (choice.isEmpty()) {
                    unclear++;
                }
                boolean right = choice.map(q.answer()::equals).orElse(false);
                everyRound &= right;
                if (q == firstRound) {
                    first = right;
                }
            }
            add(all, everyRound, first);
            if (firstRound.category() != null) {
                add(byCategory.computeIfAbsent(firstRound.category(), k -> new int[3]), everyRound, first);
            }
            if (firstRound.l2Category() != null) {
                add(byL2.computeIfAbsent(firstRound.l2Category(), k -> new int[3]), everyRound, first);
            }
        }
        ScoreTable.Builder table = ScoreTable.builder("mmbench", "MMBench accuracy (%): circular (every rotation of the"
                + " options right) and of the first round alone", "circular", "first_round");
        byCategory.forEach((name, c) -> row(table, name, c));
        byL2.forEach((name, c) -> row(table, "l2: " + name, c));
        row(table, "all", all);
        if (unclear > 0) {
            table.note(unclear + " of " + rounds.size() + " answers chose no option clearly (scored wrong; the"
                    + " reference would ask a judge model)");
        }
        return table.build();
    }

    private static void add(int[] counts, boolean circular, boolean first) {
        counts[0]++;
        counts[1] += circular ? 1 : 0;
        counts[2] += first ? 1 : 0;
    }

    private static void row(ScoreTable.Builder table, String name, int[] c) {
        table.row(name, c[0], 100.0 * c[1] / c[0], 100.0 * c[2] / c[0]);
    }
}
