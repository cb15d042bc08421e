package io.convllava.cli.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * MMBench's TSV ({@code MMBench_DEV_EN.tsv}): columns {@code index, question, hint, A, B, C, D, answer, category,
 * l2-category} and {@code image} (base64; VLMEvalKit's files give a repeated image as the index of the row that holds
 * it) or {@code image_path} (under --images). Options stop at the first empty one. When the file holds the circular
 * rounds (indexes from 1,000,000 up, VLMEvalKit's files) they are used as they are; otherwise each question is asked
 * once per option with the options rotated, as LLaVA's {@code --all-rounds}.
 */
public final class MmbenchFormat {
    static final long ROUND_STRIDE = 1_000_000L;

    private MmbenchFormat() {
    }

    public static List<MmbenchQuestion> read(Path data, Path images) {
        List<List<String>> records = TsvReader.parse(DataFiles.read(data), data.toString());
        if (records.size() < 2) {
            throw new BenchmarkFormatException(data + " holds no questions (expected a header line and a line per"
                    + " question)");
        }
        Map<String, Integer> columns = new HashMap<>();
        List<String> header = records.get(0);
        for (int i = 0; i < header.size(); i++) {
            columns.put(header.get(i).strip(), i);
        }
        for (String required : List.of("index", "question", "answer", "A", "B")) {
            if (!columns.containsKey(required)) {
                throw new BenchmarkFormatException(data + ": no column '" + required + "' in the header " + header);
            }
        }
        if (!columns.containsKey("image") && !columns.containsKey("image_path")) {
            throw new BenchmarkFormatException(data + ": no column 'image' (base64) or 'image_path'");
        }
        List<Row> rows = new ArrayList<>();
        Map<String, String> imageByIndex = new HashMap<>();
        for (int r = 1; r < records.size(); r++) {
            Row row = new Row(records.get(r), columns, data + " line " + (r + 1));
            rows.add(row);
            row.optional("image").ifPresent(image -> imageByIndex.put(row.required("index"), image));
        }
        boolean circularInFile = rows.stream().anyMatch(row -> row.index() >= ROUND_STRIDE);
        List<MmbenchQuestion> questions = new ArrayList<>();
        for (Row row : rows) {
            EvalImage image = row.image(imageByIndex, images);
            Map<String, String> options = row.options();
            String answer = row.required("answer").strip().toUpperCase(Locale.ROOT);
            if (!options.containsKey(answer)) {
                throw new BenchmarkFormatException(row.where + ": answer '" + answer + "' is not one of the options "
                        + options.keySet());
            }
            String hint = row.optional("hint").orElse(null);
            String category = row.optional("category").orElse(null);
            String l2 = row.optional("l2-category").or(() -> row.optional("l2_category")).orElse(null);
            if (circularInFile) {
                questions.add(new MmbenchQuestion(row.index(), row.index() % ROUND_STRIDE, image, hint,
                        row.required("question"), options, answer, category, l2));
                continue;
            }
            List<String> texts = new ArrayList<>(options.values());
            int right = new ArrayList<>(options.keySet()).indexOf(answer);
            int n = texts.size();
            for (int round = 0; round < n; round++) {
                Map<String, String> rotated = new LinkedHashMap<>();
                for (int i = 0; i < n; i++) {
                    rotated.put(letter(i), texts.get((i + round) % n));
                }
                questions.add(new MmbenchQuestion(row.index() + round * ROUND_STRIDE, row.index(), image, hint,
                        row.required("question"), rotated, letter((right - round + n) % n), category, l2));
            }
        }
        return questions;
    }

    /** The rounds with the multiple-choice prompt, scored by {@link MmbenchScorer}. */
    public static LoadedBenchmark load(Path data, Path images, PromptStyle style) {
        List<MmbenchQuestion> questions = read(data, images);
        List<EvalQuestion> asked = questions.stream().map(q -> new EvalQuestion(Long.toString(q.index()), q.image(),
                ReferencePrompts.multipleChoice(q.hint(), q.question(), q.options(), style))).toList();
        DataFiles.requireUniqueIds(asked, data);
        return new LoadedBenchmark(asked, answers -> MmbenchScorer.score(questions, answers));
    }

    static String letter(int i) {
        return String.valueOf((char) ('A' + i));
    }

    /** A line of the file, read by column name. */
    private static final class Row {
        final List<String> fields;
        final Map<String, Integer> columns;
        final String where;

        Row(List<String> fields, Map<String, Integer> columns, String where) {
            this.fields = fields;
            this.columns = columns;
            this.where = where;
        }

        /** The field, or empty when the column is absent or the value is blank, "nan" or "none" (pandas' NaN). */
        java.util.Optional<String> optional(String column) {
            Integer i = columns.get(column);
            if (i == null || i >= fields.size()) {
                return java.util.Optional.empty();
            }
            String value = fields.get(i);
            String lower = value.strip().toLowerCase(Locale.ROOT);
            return lower.isEmpty() || lower.equals("nan") || lower.equals("none") ? java.util.Optional.empty()
                    : java.util.Optional.of(value);
        }

        String required(String column) {
            return optional(column).orElseThrow(() -> new BenchmarkFormatException(where + ": no value in column '"
                    + column + "'"));
        }

        long index() {
            String value = required("index").strip();
            try {
                return (long) Double.parseDouble(value);
            } catch (NumberFormatException e) {
                throw new BenchmarkFormatException(where + ": index '" + value + "' is not a number");
            }
        }

        Map<String, String> options() {
            Map<String, String> options = new LinkedHashMap<>();
            for (int i = 0; i < 26; i++) {
                var text = optional(letter(i));
                if (text.isEmpty()) {
                    break;
                }
                options.put(letter(i), text.get());
            }
            return options;
        }

        EvalImage image(Map<String, String> imageByIndex, Path images) {
            var path = optional("image_path");
            if (path.isPresent()) {
                return EvalImage.file(DataFiles.image(images, path.get().strip(), where));
            }
            String value = required("image").strip();
            // VLMEvalKit writes a repeated image once, and the index of its row in the copies
            if (value.length() <= 64 && imageByIndex.containsKey(value)) {
                value = imageByIndex.get(value).strip();
            }
            try {
                return EvalImage.inline("mmbench-" + required("index").strip(),
                        Base64.getMimeDecoder().decode(value));
            } catch (IllegalArgumentException e) {
                throw new BenchmarkFormatException(where + ": column 'image' is not base64 (" + e.getMessage() + ")");
            }
        }
    }
}
