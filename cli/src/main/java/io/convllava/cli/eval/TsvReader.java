package io.convllava.cli.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Tab-separated values as pandas writes and reads them: a field that starts with a double quote runs to the closing
 * quote (tabs and line breaks inside it are data, "" is a quote); any other field runs to the next tab or line end.
 */
final class TsvReader {
    private TsvReader() {
    }

    /** The records of {@code text}, each a list of fields; blank lines are skipped. */
    static List<List<String>> parse(String text, String where) {
        List<List<String>> records = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int i = 0;
        int line = 1;
        boolean atFieldStart = true;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (atFieldStart && c == '"') {
                int start = line;
                i++;
                while (true) {
                    if (i >= text.length()) {
                        throw new BenchmarkFormatException(where + " line " + start + ": a quoted field never ends");
                    }
                    char q = text.charAt(i);
                    if (q == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        field.append('"');
                        i += 2;
                    } else if (q == '"') {
                        i++;
                        break;
                    } else {
                        line += q == '\n' ? 1 : 0;
                        field.append(q);
                        i++;
                    }
                }
                atFieldStart = false;
                continue;
            }
            if (c == '\t') {
                fields.add(field.toString());
                field.setLength(0);
                atFieldStart = true;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                    i++;
                }
                fields.add(field.toString());
                field.setLength(0);
                endRecord(records, fields);
                fields = new ArrayList<>();
                atFieldStart = true;
                line++;
            } else {
                field.append(c);
                atFieldStart = false;
            }
            i++;
        }
        if (!atFieldStart || field.length() > 0 || !fields.isEmpty()) {
            fields.add(field.toString());
            endRecord(records, fields);
        }
        return records;
    }

    private static void endRecord(List<List<String>> records, List<String> fields) {
        boolean blank = fields.size() == 1 && fields.get(0).isBlank();
        if (!blank) {
            records.add(fields);
        }
    }
}
