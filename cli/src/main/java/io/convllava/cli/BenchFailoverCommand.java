package io.convllava.cli;

import io.convllava.cli.bench.FailoverBench;
import io.convllava.common.model.ModelFiles;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code convllava bench failover}: the stall a stream sees when the llm node serving it is killed. */
@Command(name = "failover", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Failover recovery in one run: a local cluster (embedded ZooKeeper, llm nodes on --layers, a"
                + " coordinator without prefix reuse, each in its own JVM); per run, --warmups pairs of concurrent"
                + " requests, then a seeded sampled stream whose last serving stage is killed with SIGKILL after"
                + " --kill-after tokens, a replacement llm node with the same layers, and the same request again"
                + " uninterrupted. Prints, per run, whether the tokens are identical and the longest gap between two"
                + " tokens of each stream. Text-only (no vision node). See docs/reliability.md."})
final class BenchFailoverCommand implements Callable<Integer> {

    @ParentCommand
    private BenchCommand bench;

    @Option(names = "--model", paramLabel = "DIR|ORG/NAME", description = "The model: a folder, or a hub id in the"
            + " hub cache (default: the bundled demo model).")
    String model;

    @Mixin
    HubCacheOption hubCache;

    @Option(names = "--layers", defaultValue = "0-2,2-4,0-2,2-4", paramLabel = "a-b,c-d,...", split = ",",
            description = "Decoder layers of each llm node: at least two pipelines (default: ${DEFAULT-VALUE}).")
    List<String> layers;

    @Option(names = "--prompt-words", defaultValue = "5", paramLabel = "N", description = "Filler words in the"
            + " prompt, about three positions each: 500 for a prompt of about 1000 (default: ${DEFAULT-VALUE}).")
    int promptWords;

    @Option(names = "--tokens", defaultValue = "100", paramLabel = "N",
            description = "Tokens per request (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--kill-after", defaultValue = "30", paramLabel = "N",
            description = "Tokens received before the kill (default: ${DEFAULT-VALUE}).")
    int killAfter;

    @Option(names = "--runs", defaultValue = "2", paramLabel = "N",
            description = "Kills, each followed by a replacement node (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--warmups", defaultValue = "10", paramLabel = "N",
            description = "Pairs of concurrent warm-up requests before each kill (default: ${DEFAULT-VALUE}).")
    int warmups;

    @Option(names = "--node-java-opts", defaultValue = "-Xmx512m", paramLabel = "OPTS",
            description = "JVM options of every node (default: ${DEFAULT-VALUE}).")
    String nodeJavaOptions;

    @Option(names = "--log-dir", paramLabel = "DIR", description = "Where each node's log goes (default: a new"
            + " temporary folder).")
    Path logDir;

    @Option(names = "--ready-timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "How long to wait for the cluster, and for each replacement node (default:"
                    + " ${DEFAULT-VALUE}).")
    int readyTimeout;

    @Option(names = "--timeout-s", defaultValue = "600", paramLabel = "SECONDS",
            description = "Deadline of each request (default: ${DEFAULT-VALUE}).")
    int timeout;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (layers.size() < 2 || tokens < 2 || killAfter < 1 || killAfter >= tokens || runs < 1 || warmups < 0
                || promptWords < 0 || readyTimeout < 1 || timeout < 1) {
            throw new UsageException("need two or more --layers ranges, --tokens > --kill-after >= 1, --runs >= 1,"
                    + " --warmups >= 0, --prompt-words >= 0 and positive timeouts");
        }
        Path logs = logDir != null ? logDir : Path.of(System.getProperty("java.io.tmpdir"),
                "convllava-bench-failover-" + ProcessHandle.current().pid());
        Path chosen = model != null ? ModelFiles.locate(model, hubCache.dir) : ModelOptions.bundled();
        FailoverBench.Settings settings = new FailoverBench.Settings(chosen.toString(), hubCache.arg(), layers,
                promptWords, tokens, killAfter, runs, warmups, nodeJavaOptions, logs, Duration.ofSeconds(readyTimeout),
                Duration.ofSeconds(timeout));
        List<FailoverBench.Result> results;
        try {
            results = new FailoverBench(settings, bench.main().err()).run();
        } catch (StatusRuntimeException e) {
            throw new CommandFailedException(RemoteCallErrors.describe(e, "the bench's local cluster", "127.0.0.1")
                    + "; node logs in " + logs);
        }
        print(results, bench.main().out());
        return results.stream().allMatch(FailoverBench.Result::identical) ? 0 : 1;
    }

    private static void print(List<FailoverBench.Result> results, PrintStream out) {
        out.println("| run | killed | prompt tokens | tokens | identical | longest gap killed / uninterrupted (ms)"
                + " | total killed / uninterrupted (ms) |");
        out.println("|---|---|---|---|---|---|---|");
        for (int i = 0; i < results.size(); i++) {
            FailoverBench.Result r = results.get(i);
            out.printf(Locale.ROOT, "| %d | %s | %d | %d | %s | %.0f / %.0f | %.0f / %.0f |%n", i, r.killed(),
                    r.promptTokens(), r.tokens(), r.identical() ? "yes" : "NO", r.longestGapMs(),
                    r.uninterruptedLongestGapMs(), r.totalMs(), r.uninterruptedTotalMs());
        }
    }
}
