package io.convllava.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.convllava.cli.logging.JsonLogEncoder;
import io.convllava.cli.logging.LogLines;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * Console logging on stderr (logback, configured in code before the first logger is used): the project's own
 * messages from INFO, libraries silent unless {@code --verbose} (or {@code CONVLLAVA_VERBOSE=true}) asks for them,
 * so a ZooKeeper that cannot be reached is one line from the command, not pages of client retries. With
 * {@code --log-format json} (or {@code CONVLLAVA_LOG_FORMAT=json}) every line, progress lines included, is one JSON
 * object ({@link JsonLogEncoder}). {@code -Dlogback.configurationFile=FILE} replaces all of this with the operator's
 * own configuration.
 */
final class Logging {
    static final String FORMAT_OPTION = "--log-format";
    static final List<String> FORMATS = List.of("text", "json");

    private Logging() {
    }

    static boolean requestedVerbose(String[] args) {
        return Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-v")
                || Boolean.parseBoolean(System.getenv(ConfigDefaults.PREFIX + "VERBOSE"));
    }

    /**
     * The format asked for by {@code --log-format F} or {@code --log-format=F}, else by the environment
     * ({@code CONVLLAVA_LOG_FORMAT}), else by the config file ({@code log-format=}); "text" by default. A config file
     * that cannot be read counts as none here: the command then stops naming it.
     */
    static String requestedFormat(String[] args, Map<String, String> env) {
        String format;
        try {
            format = ConfigDefaults.load(args, env).value(FORMAT_OPTION.substring(2));
        } catch (UsageException e) {
            format = env.get(ConfigDefaults.envName(FORMAT_OPTION.substring(2)));
        }
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(FORMAT_OPTION) && i + 1 < args.length) {
                format = args[i + 1];
            } else if (args[i].startsWith(FORMAT_OPTION + "=")) {
                format = args[i].substring(FORMAT_OPTION.length() + 1);
            }
        }
        return format == null ? "text" : format.toLowerCase(Locale.ROOT);
    }

    static boolean json(String format) {
        return format.equals("json");
    }

    static void configure(boolean verbose, String format) {
        if (System.getProperty("logback.configurationFile") != null) {
            return;
        }
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("console");
        console.setTarget("System.err");
        console.setEncoder(encoder(context, json(format)));
        console.start();
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(verbose ? Level.INFO : Level.OFF);
        root.addAppender(console);
        context.getLogger("io.convllava").setLevel(Level.INFO);
        if (!verbose) {
            // DJL probes for CUDA on every start; on a CPU-only machine that is expected
            context.getLogger("ai.djl.util.cuda").setLevel(Level.OFF);
        }
    }

    /**
     * Names this process in every JSON log line from now on ({@code role}, {@code node}); a no-op for plain text.
     */
    static void identify(String role, String nodeId) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.putProperty("role", role);
            if (nodeId != null) {
                context.putProperty("node", nodeId);
            }
        }
    }

    /**
     * Where a command's progress lines go: {@code err} itself for plain text, or, for JSON logs, a stream that logs
     * each line as an INFO event of {@code io.convllava.<role>}.
     */
    static PrintStream progress(PrintStream err, String format, String role) {
        return json(format) ? LogLines.to(LoggerFactory.getLogger("io.convllava." + role)) : err;
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, boolean json) {
        if (json) {
            JsonLogEncoder encoder = new JsonLogEncoder();
            encoder.setContext(context);
            encoder.start();
            return encoder;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%level %logger{0} - %msg%n%ex");
        encoder.start();
        return encoder;
    }
}
