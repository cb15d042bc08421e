package io.convllava.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Defaults for any flag from the environment ({@code --max-new-tokens} = {@code CONVLLAVA_MAX_NEW_TOKENS}) and from
 * the properties file named by {@code --config} or {@code CONVLLAVA_CONFIG} ({@code max-new-tokens=64}). A flag on
 * the command line wins over both; the environment wins over the file; the built-in default applies last.
 */
final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    static final String PREFIX = "CONVLLAVA_";

    private final Map<String, String> env;
    private final Properties file;

    private ConfigDefaults(Map<String, String> env, Properties file) {
        this.env = env;
        this.file = file;
    }

    /** Reads the config file named on the command line or in the environment, if any. */
    static ConfigDefaults load(String[] args, Map<String, String> env) {
        String config = env.get(PREFIX + "CONFIG");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                config = args[i + 1];
            } else if (args[i].startsWith("--config=")) {
                config = args[i].substring("--config=".length());
            }
        }
        Properties props = new Properties();
        if (config != null) {
            try (Reader r = Files.newBufferedReader(Path.of(config))) {
                props.load(r);
            } catch (IOException e) {
                throw new UsageException("cannot read the config file " + config + " (--config or " + PREFIX
                        + "CONFIG): " + e);
            }
        }
        return new ConfigDefaults(env, props);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option) || option.longestName().equals("--config")) {
            return null;
        }
        return value(option.longestName().replaceFirst("^-+", ""));
    }

    /** The default of flag {@code name} (without dashes): the environment's, else the file's; null if neither. */
    String value(String name) {
        String value = env.get(envName(name));
        return value != null ? value : file.getProperty(name);
    }

    /** {@code max-new-tokens} -> {@code CONVLLAVA_MAX_NEW_TOKENS}. */
    static String envName(String flag) {
        return PREFIX + flag.toUpperCase(Locale.ROOT).replace('-', '_');
    }
}
