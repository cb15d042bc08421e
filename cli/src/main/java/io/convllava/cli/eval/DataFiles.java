package io.convllava.cli.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Reading benchmark files: every mistake is reported with the file, the line or entry, and the field at fault. */
final class DataFiles {
    private DataFiles() {
    }

    /** A JSON object of a data file, and where it came from ("pope.jsonl line 3"). */
    record Entry(JsonObject json, String where) {

        String string(String field) {
            return optionalString(field).orElseThrow(() -> missing(field));
        }

        Optional<String> optionalString(String field) {
            JsonElement e = json.get(field);
            if (e == null || e.isJsonNull()) {
                return Optional.empty();
            }
            if (!e.isJsonPrimitive()) {
                throw new BenchmarkFormatException(where + ": field '" + field + "' should be a string or a number,"
                        + " not " + e);
            }
            return Optional.of(e.getAsString());
        }

        int integer(String field) {
            String value = string(field);
            try {
                return (int) Math.round(Double.parseDouble(value));
            } catch (NumberFormatException ex) {
                throw new BenchmarkFormatException(where + ": field '" + field + "' should be a number, not '" + value
                        + "'");
            }
        }

        List<String> strings(String field) {
            return optionalStrings(field).orElseThrow(() -> missing(field));
        }

        Optional<List<String>> optionalStrings(String field) {
            JsonElement e = json.get(field);
            if (e == null || e.isJsonNull()) {
                return Optional.empty();
            }
            if (!e.isJsonArray()) {
                throw new BenchmarkFormatException(where + ": field '" + field + "' should be a list, not " + e);
            }
            List<String> values = new ArrayList<>();
            for (JsonElement v : e.getAsJsonArray()) {
                if (!v.isJsonPrimitive()) {
                    throw new BenchmarkFormatException(where + ": field '" + field + "' should hold strings, not " + v);
                }
                values.add(v.getAsString());
            }
            return Optional.of(values);
        }

        double[] numbers(String field, int count) {
            List<String> values = strings(field);
            if (values.size() != count) {
                throw new BenchmarkFormatException(where + ": field '" + field + "' should hold " + count
                        + " numbers, not " + values.size());
            }
            double[] out = new double[count];
            for (int i = 0; i < count; i++) {
                try {
                    out[i] = Double.parseDouble(values.get(i));
                } catch (NumberFormatException ex) {
                    throw new BenchmarkFormatException(where + ": field '" + field + "' holds '" + values.get(i)
                            + "', not a number");
                }
            }
            return out;
        }

        BenchmarkFormatException missing(String field) {
            return new BenchmarkFormatException(where + ": no field '" + field + "'");
        }
    }

    /** Every non-blank line of a JSON-lines file, as an object. */
    static List<Entry> jsonLines(Path file) {
        List<Entry> entries = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String where = file + " line " + (i + 1);
            entries.add(new Entry(object(parse(line, where), where), where));
        }
        if (entries.isEmpty()) {
            throw new BenchmarkFormatException(file + " holds no questions");
        }
        return entries;
    }

    /** The objects of the list {@code field} of a JSON file's top-level object (TextVQA's and DocVQA's "data"). */
    static List<Entry> jsonList(Path file, String field) {
        JsonElement root = parse(read(file), file.toString());
        JsonObject top = object(root, file.toString());
        JsonElement list = top.get(field);
        if (list == null || !list.isJsonArray()) {
            throw new BenchmarkFormatException(file + ": no list '" + field + "' at the top level");
        }
        List<Entry> entries = new ArrayList<>();
        JsonArray array = list.getAsJsonArray();
        for (int i = 0; i < array.size(); i++) {
            String where = file + " " + field + "[" + i + "]";
            entries.add(new Entry(object(array.get(i), where), where));
        }
        if (entries.isEmpty()) {
            throw new BenchmarkFormatException(file + " holds no questions");
        }
        return entries;
    }

    /** The image file {@code name} under {@code folder}, which must exist. */
    static Path image(Path folder, String name, String where) {
        Path file = folder.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new BenchmarkFormatException(where + ": image " + file + " not found (images are looked up under"
                    + " --images " + folder + ")");
        }
        return file;
    }

    /** Checks that no two questions share an id. */
    static void requireUniqueIds(List<EvalQuestion> questions, Path file) {
        Set<String> seen = new HashSet<>();
        for (EvalQuestion q : questions) {
            if (!seen.add(q.id())) {
                throw new BenchmarkFormatException(file + ": two questions have the id '" + q.id() + "'");
            }
        }
    }

    static List<String> lines(Path file) {
        return List.of(read(file).split("\r?\n", -1));
    }

    static String read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new BenchmarkFormatException("data file " + file + " not found");
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static JsonObject object(JsonElement e, String where) {
        if (!e.isJsonObject()) {
            throw new BenchmarkFormatException(where + ": expected a JSON object, found " + abbreviated(e.toString()));
        }
        return e.getAsJsonObject();
    }

    private static String abbreviated(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    /** JSON parsing that names the place of a syntax error. */
    private static JsonElement parse(String text, String where) {
        try {
            return JsonParser.parseString(text);
        } catch (JsonParseException e) {
            throw new BenchmarkFormatException(where + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }
}
