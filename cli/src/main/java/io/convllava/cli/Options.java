package io.convllava.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Command-line configuration. A setting {@code --max-new-tokens 64} can also come from the environment
 * ({@code CONVLLAVA_MAX_NEW_TOKENS=64}) or from a properties file given with {@code --config FILE}
 * ({@code max-new-tokens=64}); flags win over the environment, which wins over the file.
 */
public final class Options {
    private final String command;
    private final Map<String, String> flags;
    private final List<String> positional;
    private final Properties file;
    private final Map<String, String> env;

    private Options(String command, Map<String, String> flags, List<String> positional, Properties file,
                    Map<String, String> env) {
        this.command = command;
        this.flags = flags;
        this.positional = positional;
        this.file = file;
        this.env = env;
    }

    /** Parses {@code command --name value --switch ...}; {@code booleans} are the flags that take no value. */
    public static Options parse(String[] args, Set<String> booleans) {
        Map<String, String> flags = new HashMap<>();
        List<String> positional = new ArrayList<>();
        String command = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                String name = a.substring(2);
                String value;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                } else if (booleans.contains(name)) {
                    value = "true";
                } else if (i + 1 < args.length) {
                    value = args[++i];
                } else {
                    throw new UsageException("flag --" + name + " needs a value");
                }
                flags.put(name, value);
            } else if (command == null) {
                command = a;
            } else {
                positional.add(a);
            }
        }
        Properties props = new Properties();
        String config = flags.getOrDefault("config", System.getenv("CONVLLAVA_CONFIG"));
        if (config != null) {
            try (Reader r = Files.newBufferedReader(Path.of(config))) {
                props.load(r);
            } catch (IOException e) {
                throw new UsageException("cannot read the config file " + config + ": " + e.getMessage());
            }
        }
        return new Options(command, flags, positional, props, System.getenv());
    }

    public String command() {
        return command;
    }

    public List<String> positional() {
        return positional;
    }

    public String get(String name) {
        String v = flags.get(name);
        if (v == null) {
            v = env.get("CONVLLAVA_" + name.toUpperCase().replace('-', '_'));
        }
        if (v == null) {
            v = file.getProperty(name);
        }
        return v;
    }

    public String get(String name, String fallback) {
        String v = get(name);
        return v != null ? v : fallback;
    }

    public String require(String name) {
        String v = get(name);
        if (v == null) {
            throw new UsageException("missing --" + name);
        }
        return v;
    }

    public boolean has(String name) {
        return get(name) != null;
    }

    public boolean flag(String name) {
        return Boolean.parseBoolean(get(name, "false"));
    }

    public int getInt(String name, int fallback) {
        String v = get(name);
        try {
            return v == null ? fallback : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    public long getLong(String name, long fallback) {
        String v = get(name);
        try {
            return v == null ? fallback : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    public float getFloat(String name, float fallback) {
        String v = get(name);
        try {
            return v == null ? fallback : Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number, got '" + v + "'");
        }
    }

    /** Flags given on the command line, for diagnostics and for passing settings on to child processes. */
    public Map<String, String> flags() {
        return Map.copyOf(flags);
    }

    /** A command-line mistake: printed with the usage, exit code 2. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }
}
