package io.convllava.cli.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The scores of one benchmark run: a row per category (subtask, question type, POPE split...) and the overall row,
 * a column per metric. Metrics are percentages except where the benchmark defines otherwise (MME scores).
 *
 * @param metric what the task is scored by, e.g. "VQA accuracy (%)"
 * @param notes  facts a reader needs beside the numbers (answers that matched no option, ...)
 */
public record ScoreTable(String task, String metric, List<String> columns, List<Row> rows, List<String> notes) {

    /**
     * @param questions how many questions the row covers
     * @param values    one per column, null where the column does not apply to the row
     */
    public record Row(String name, int questions, List<Double> values) {
        /** The value of {@code column} in this row of {@code table}. */
        public Double value(ScoreTable table, String column) {
            int i = table.columns().indexOf(column);
            if (i < 0) {
                throw new IllegalArgumentException("no column '" + column + "' in " + table.columns());
            }
            return values.get(i);
        }
    }

    public ScoreTable {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
        notes = List.copyOf(notes);
    }

    /** The row named {@code name}. */
    public Row row(String name) {
        return rows.stream().filter(r -> r.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no row '" + name + "' in the " + task + " table"));
    }

    /** A builder of a table with these columns. */
    public static Builder builder(String task, String metric, String... columns) {
        return new Builder(task, metric, List.of(columns));
    }

    public static final class Builder {
        private final String task;
        private final String metric;
        private final List<String> columns;
        private final List<Row> rows = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();

        private Builder(String task, String metric, List<String> columns) {
            this.task = task;
            this.metric = metric;
            this.columns = columns;
        }

        public Builder row(String name, int questions, Double... values) {
            if (values.length != columns.size()) {
                throw new IllegalArgumentException(values.length + " values for columns " + columns);
            }
            rows.add(new Row(name, questions, Arrays.asList(values)));
            return this;
        }

        public Builder note(String note) {
            notes.add(note);
            return this;
        }

        public ScoreTable build() {
            return new ScoreTable(task, metric, columns, rows, notes);
        }
    }

    /** An aligned text table, then the notes. */
    public String toText() {
        List<String> header = new ArrayList<>();
        header.add("");
        header.add("questions");
        header.addAll(columns);
        List<List<String>> cells = new ArrayList<>();
        cells.add(header);
        for (Row row : rows) {
            List<String> line = new ArrayList<>();
            line.add(row.name());
            line.add(Integer.toString(row.questions()));
            for (Double v : row.values()) {
                line.add(v == null ? "-" : String.format(Locale.ROOT, "%.2f", v));
            }
            cells.add(line);
        }
        int[] widths = new int[header.size()];
        for (List<String> line : cells) {
            for (int i = 0; i < line.size(); i++) {
                widths[i] = Math.max(widths[i], line.get(i).length());
            }
        }
        StringBuilder out = new StringBuilder(task).append(": ").append(metric).append('\n');
        for (List<String> line : cells) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < line.size(); i++) {
                String cell = line.get(i);
                // names left-aligned, numbers right-aligned
                text.append(i == 0 ? pad(cell, widths[i], false) : "  " + pad(cell, widths[i], true));
            }
            out.append(text.toString().stripTrailing()).append('\n');
        }
        for (String note : notes) {
            out.append("note: ").append(note).append('\n');
        }
        return out.toString();
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }

    /** {"task", "metric", "rows": [{"name", "questions", column: value...}], "notes"}. */
    public JsonObject toJson() {
        JsonObject json = new JsonObject();
        json.addProperty("task", task);
        json.addProperty("metric", metric);
        JsonArray rowsJson = new JsonArray();
        for (Row row : rows) {
            JsonObject r = new JsonObject();
            r.addProperty("name", row.name());
            r.addProperty("questions", row.questions());
            for (int i = 0; i < columns.size(); i++) {
                Double v = row.values().get(i);
                if (v != null) {
                    r.addProperty(columns.get(i), Math.round(v * 1e4) / 1e4);
                }
            }
            rowsJson.add(r);
        }
        json.add("rows", rowsJson);
        JsonArray notesJson = new JsonArray();
        notes.forEach(notesJson::add);
        json.add("notes", notesJson);
        return json;
    }
}
