package io.convllava.cli;

import io.convllava.common.node.ParentWatch;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** The {@code convllava} launcher: one distribution for every role. */
@Command(name = "convllava", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "ConvLLaVA Cluster: serve the ConvLLaVA vision-language model on a gRPC cluster.",
        subcommands = {DemoCommand.class, GenerateCommand.class, LocalCommand.class, ZooKeeperCommand.class,
                VisionNodeCommand.class, LlmNodeCommand.class, CoordinatorCommand.class, StatusCommand.class,
                DownloadCommand.class, BenchCommand.class, EvalCommand.class, CertsCommand.class,
                AutoComplete.GenerateCompletion.class},
        footer = {"",
                "Every flag can also be set as CONVLLAVA_<FLAG> in the environment (--max-new-tokens 64 ="
                        + " CONVLLAVA_MAX_NEW_TOKENS=64) or as flag=value in the properties file named by --config"
                        + " or CONVLLAVA_CONFIG; flags win over the environment, the environment over the file.",
                "Shell completion: source <(convllava generate-completion)"})
public final class Main implements Callable<Integer> {
    /** A command-line mistake. */
    static final int USAGE = 2;

    private final PrintStream out;
    private final PrintStream err;

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "Properties file with defaults for any flag (flag=value).")
    private String config; // read before parsing by ConfigDefaults; declared so that it is accepted and documented

    @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Show library logs (ZooKeeper, Curator, gRPC, DJL) and stack traces of errors.")
    private boolean verbose;

    @Option(names = Logging.FORMAT_OPTION, scope = CommandLine.ScopeType.INHERIT, paramLabel = "text|json",
            defaultValue = "text", completionCandidates = LogFormats.class,
            description = "Log lines on stderr as plain text or as one JSON object per line, with the request id of"
                    + " the request they concern (default: ${DEFAULT-VALUE}).")
    private String logFormat; // read before parsing by Logging; declared so that it is checked and documented

    private Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        String format = Logging.requestedFormat(args, System.getenv()); // checked by run()
        // before any logger exists; run() leaves a host's logging alone
        Logging.configure(Logging.requestedVerbose(args), format);
        ParentWatch.startIfAsked();
        System.exit(run(args, System.out, Logging.progress(System.err, format, "cli")));
    }

    /** Runs one command line; the exit code is 0 on success, 1 when the command failed, 2 for a usage mistake. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine line = new CommandLine(new Main(out, err));
        line.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        line.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        try {
            line.setDefaultValueProvider(ConfigDefaults.load(args, System.getenv()));
        } catch (UsageException e) {
            err.println("convllava: " + e.getMessage());
            return USAGE;
        }
        String format = Logging.requestedFormat(args, System.getenv());
        if (!Logging.FORMATS.contains(format)) {
            err.println("convllava: " + Logging.FORMAT_OPTION + " (or " + ConfigDefaults.PREFIX + "LOG_FORMAT) must be"
                    + " one of " + Logging.FORMATS + ", got '" + format + "'");
            return USAGE;
        }
        line.setUsageHelpAutoWidth(true);
        line.setParameterExceptionHandler(new UsageErrors());
        line.setExecutionExceptionHandler(new CommandErrors());
        return line.execute(args);
    }

    /**
     * Every command and flag, without defaults from the environment or a config file: a model to check command lines
     * against (the deployment files' tests); parsing with it runs nothing.
     */
    static CommandLine commandLine() {
        return new CommandLine(new Main(System.out, System.err));
    }

    /** Without a command: the usage, and a usage exit code. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    /** Where commands print their results. */
    PrintStream out() {
        return out;
    }

    /** Where commands print progress, apart from their results. */
    PrintStream err() {
        return err;
    }

    boolean verbose() {
        return verbose;
    }

    /**
     * A server role's "ready" line: on stdout for plain text; with JSON logs, logged like every other line (so that a
     * log collector sees only JSON), after naming the node in every line from now on.
     */
    void announceReady(String role, String nodeId, String line) {
        Logging.identify(role, nodeId);
        PrintStream to = Logging.json(logFormat) ? err : out;
        to.println(line);
        to.flush();
    }

    /** The log format asked for: "text" or "json". */
    String logFormat() {
        return logFormat;
    }

    /** Shell completion of {@code --log-format}. */
    static final class LogFormats extends java.util.ArrayList<String> {
        LogFormats() {
            super(Logging.FORMATS);
        }
    }
}
