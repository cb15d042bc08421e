package io.convllava.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A {@code convllava} command line as a deployment file writes it (arguments after the launcher, and the environment it
 * runs in), parsed by the launcher's own command model and environment defaults ({@link ConfigDefaults}) without
 * running anything. Parsing fails the test, naming {@code where}, for an unknown command or flag, a bad value, a
 * missing required flag, or a {@code CONVLLAVA_*} variable that is neither a flag of the command nor one that the
 * launcher script reads itself.
 */
public final class LauncherCommandLine {
    private static final Pattern LAUNCHER_VARIABLE = Pattern.compile("\\b" + ConfigDefaults.PREFIX + "[A-Z_]+\\b");

    private final String where;
    private final CommandSpec command;

    private LauncherCommandLine(String where, CommandSpec command) {
        this.where = where;
        this.command = command;
    }

    /**
     * Parses {@code args} (the command first) with {@code env}; {@code launcherScript} is the text of
     * {@code bin/convllava}, whose own {@code CONVLLAVA_*} variables (JVM options, the home) are not flags.
     */
    public static LauncherCommandLine parse(String where, List<String> args, Map<String, String> env,
                                            String launcherScript) {
        CommandLine line = Main.commandLine();
        line.setDefaultValueProvider(ConfigDefaults.load(new String[0], env));
        ParseResult result;
        try {
            result = line.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new AssertionError(where + ": convllava " + String.join(" ", args) + ": " + e.getMessage(), e);
        }
        if (!result.hasSubcommand()) {
            fail(where + ": no convllava command in " + args);
        }
        LauncherCommandLine parsed = new LauncherCommandLine(where, result.subcommand().commandSpec());
        parsed.checkVariables(env, launcherVariables(launcherScript));
        return parsed;
    }

    /** The command: llm-node, coordinator, ... */
    public String name() {
        return command.name();
    }

    /** The value the command runs with: from the command line, else the environment, else the built-in default. */
    public String value(String flag) {
        Object value = option(flag).getValue();
        return value == null ? null : String.valueOf(value);
    }

    /** {@link #value} as a number. */
    public int intValue(String flag) {
        String value = value(flag);
        assertTrue(value != null, where + ": " + name() + " has no " + flag);
        return Integer.parseInt(value);
    }

    /** The built-in default of {@code flag}, as the code declares it (not from the environment). */
    public String declaredDefault(String flag) {
        return option(flag).defaultValue();
    }

    /** Every flag of the command, long names. */
    public Set<String> flags() {
        Set<String> flags = new TreeSet<>();
        command.options().forEach(o -> flags.add(o.longestName()));
        return flags;
    }

    private OptionSpec option(String flag) {
        OptionSpec option = command.findOption(flag);
        assertTrue(option != null, where + ": convllava " + name() + " has no flag " + flag);
        return option;
    }

    /** Each CONVLLAVA_ variable must be read: as a flag of this command (ConfigDefaults' naming) or by the launcher. */
    private void checkVariables(Map<String, String> env, Set<String> launcherVariables) {
        Map<String, String> flagsByVariable = new TreeMap<>();
        for (OptionSpec option : command.options()) {
            flagsByVariable.put(ConfigDefaults.envName(option.longestName().replaceFirst("^-+", "")),
                    option.longestName());
        }
        for (String variable : env.keySet()) {
            if (variable.startsWith(ConfigDefaults.PREFIX) && !flagsByVariable.containsKey(variable)
                    && !launcherVariables.contains(variable)) {
                fail(where + ": " + variable + " is no flag of convllava " + name() + " (its flags as variables: "
                        + flagsByVariable.keySet() + ") and bin/convllava does not read it");
            }
        }
    }

    private static Set<String> launcherVariables(String launcherScript) {
        Set<String> variables = new TreeSet<>();
        Matcher m = LAUNCHER_VARIABLE.matcher(launcherScript);
        while (m.find()) {
            variables.add(m.group());
        }
        assertTrue(variables.contains(ConfigDefaults.PREFIX + "JAVA_OPTS"),
                "bin/convllava no longer reads CONVLLAVA_JAVA_OPTS: " + variables);
        return variables;
    }
}
