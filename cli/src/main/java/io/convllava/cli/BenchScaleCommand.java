package io.convllava.cli;

import io.convllava.cli.bench.BenchImages;
import io.convllava.cli.bench.ScaleBench;
import io.convllava.cli.bench.ScaleReport;
import io.convllava.common.model.ModelFiles;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code convllava bench scale}: a large model served by a local cluster on this machine, one image question and one
 * long prompt, with load time, per-request timings and each node's memory.
 */
@Command(name = "scale", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Real scale on one machine: a local cluster (embedded ZooKeeper, 1 vision node, llm nodes"
                + " holding --layers, a coordinator, each in its own JVM) serving --model, asked through the public"
                + " API a question about an image and then a long text prompt (greedy). Reports the load time, each"
                + " request's encode, prefill, time to first token and decode speed, and each node's resident"
                + " memory. Made for the released 7B shapes: write them with 'convllava bench --hidden 4096 --layers"
                + " 32 --heads 32 --kv-heads 32 --ffn 11008 --resolution 1536 --dir DIR --write-only' (see"
                + " docs/benchmarks.md). Progress goes to stderr; the table, or with --json one JSON line, to stdout."},
        footer = {"", "JSON fields (times in ms unless named _s, memory in bytes):",
                "  model, device, layers, image, load_s",
                "  image_request, long_prompt: prompt_tokens (positions, image included), encode_ms, prefill_ms (the"
                        + " server's), ttft_ms (the client's), decode_tok_s (null for a one-token answer),"
                        + " completion_tokens, finish_reason",
                "  memory[]: node, role, pid, rss_ready_bytes, rss_end_bytes, hwm_end_bytes (peak)"})
final class BenchScaleCommand implements Callable<Integer> {
    @ParentCommand
    private BenchCommand bench;

    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME", description = "The model: a folder, or"
            + " a hub id in the hub cache.")
    String model;

    @Mixin
    HubCacheOption hubCache;

    @Option(names = "--layers", defaultValue = "0-16,16-32", paramLabel = "a-b,c-d,...", split = ",",
            description = "Decoder layers of each llm node (default: ${DEFAULT-VALUE}).")
    List<String> layers;

    @Option(names = "--image", paramLabel = "FILE", description = "The image asked about (default: a synthetic"
            + " 2048x1536 picture; the vision node resizes it to the model's resolution).")
    Path image;

    @Option(names = "--question", defaultValue = "Describe the image.", paramLabel = "TEXT",
            description = "The question about the image (default: ${DEFAULT-VALUE}).")
    String question;

    @Option(names = "--prompt-tokens", defaultValue = "4000", paramLabel = "N", description = "About how many"
            + " positions the long prompt takes (default: ${DEFAULT-VALUE}); the coordinator is started with a"
            + " prompt limit just above it.")
    int promptTokens;

    @Option(names = "--tokens", defaultValue = "16", paramLabel = "N",
            description = "Most tokens to generate per request (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Mixin
    DeviceOption device;

    @Option(names = "--json", description = "Print one line of JSON (fields below) instead of the table.")
    boolean json;

    @Option(names = "--node-java-opts", defaultValue = "-Xmx11g", paramLabel = "OPTS", description = "JVM options of"
            + " every node: an llm node keeps its 16-bit weights and its KV cache in the heap (default:"
            + " ${DEFAULT-VALUE}).")
    String nodeJavaOptions;

    @Option(names = "--log-dir", paramLabel = "DIR", description = "Where each node's log goes (default: a new"
            + " temporary folder).")
    Path logDir;

    @Option(names = "--ready-timeout", defaultValue = "1800", paramLabel = "SECONDS",
            description = "How long to wait for the cluster to serve (default: ${DEFAULT-VALUE}).")
    int readyTimeout;

    @Option(names = "--timeout-s", defaultValue = "3600", paramLabel = "SECONDS",
            description = "Deadline of each request (default: ${DEFAULT-VALUE}).")
    int timeout;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (tokens < 1 || promptTokens < 64 || readyTimeout < 1 || timeout < 1) {
            throw new UsageException("need --tokens >= 1, --prompt-tokens >= 64 and positive timeouts, got " + tokens
                    + ", " + promptTokens + ", " + readyTimeout + " and " + timeout);
        }
        Path dir = ModelFiles.locate(model, hubCache.dir);
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new UsageException("--model " + dir + " is not a model folder (no config.json)");
        }
        if (image != null && !Files.isRegularFile(image)) {
            throw new UsageException("--image " + image + " is not a file");
        }
        byte[] bytes = image != null ? Files.readAllBytes(image) : BenchImages.synthetic(2048, 1536);
        Path logs = logDir != null ? logDir : Path.of(System.getProperty("java.io.tmpdir"),
                "convllava-bench-scale-" + ProcessHandle.current().pid());
        ScaleBench.Settings settings = new ScaleBench.Settings(dir, hubCache.arg(), device.device, layers, bytes,
                image != null ? image.toString() : "a synthetic 2048x1536 picture", question, promptTokens, tokens,
                nodeJavaOptions, logs, Duration.ofSeconds(readyTimeout), Duration.ofSeconds(timeout));
        ScaleReport report;
        try {
            report = new ScaleBench(settings, bench.main().err()).run();
        } catch (StatusRuntimeException e) {
            throw new CommandFailedException(RemoteCallErrors.describe(e, "the bench's local cluster", "127.0.0.1")
                    + "; node logs in " + logs);
        }
        if (json) {
            bench.main().out().println(report.json());
        } else {
            report.print(bench.main().out());
        }
        return 0;
    }
}
