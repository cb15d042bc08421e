package io.convllava.tests.deploy;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A file of {@code NAME=value} lines, comments ({@code #}) and blank lines: Docker Compose's {@code .env} and
 * systemd's {@code EnvironmentFile}, as the deployment files write them (no quotes, no line continuations).
 */
final class EnvFile {
    private EnvFile() {
    }

    static Map<String, String> parse(String text, String source) {
        Map<String, String> variables = new LinkedHashMap<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int equals = line.indexOf('=');
            if (equals < 1 || line.startsWith("\"") || line.startsWith("'")) {
                fail(source + ":" + (i + 1) + ": expected NAME=value, found " + line);
            }
            String value = line.substring(equals + 1);
            if (value.startsWith("\"") || value.startsWith("'")) {
                fail(source + ":" + (i + 1) + ": quotes mean different things to Compose and systemd: " + line);
            }
            variables.put(line.substring(0, equals), value);
        }
        return variables;
    }
}
