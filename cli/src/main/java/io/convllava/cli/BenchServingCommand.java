package io.convllava.cli;

import io.convllava.cli.bench.BenchImages;
import io.convllava.cli.bench.BenchRequests;
import io.convllava.cli.bench.ServingBench;
import io.convllava.cli.bench.ServingReport;
import io.convllava.cli.bench.StreamImages;
import io.convllava.common.model.ModelFiles;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code convllava bench serving}: time to first token and decode speed in process and through a local cluster's
 * public API, concurrent streams, a second turn, encode cold and cached, each node's resident memory.
 */
@Command(name = "serving", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serving speed in one run: the model in this process and a local cluster (embedded"
                + " ZooKeeper, 1 vision node, 2 llm nodes splitting the layers, a coordinator, each in its own JVM)"
                + " through the public Generate API: batch-1 time to first token (TTFT) and decode tokens/s, the"
                + " in-process and cluster requests alternating (the engine stays loaded beside the cluster);"
                + " aggregate decode tokens/s of concurrent streams; the TTFT of a second turn about the same image;"
                + " an image's encode time cold and cached; each node's resident memory. Greedy; a request stops at"
                + " end-of-sequence or --tokens (the counts are reported). Every request asks about a variant of the"
                + " image that no cache has seen (two corner pixels differ), unless --stream-images says otherwise."
                + " Progress goes to stderr; the table, or with --json one JSON line, to stdout."},
        footer = {"", "JSON fields (times in ms, speeds in tokens/s; a decode speed is the tokens after the first over"
                + " the time from the first to the last, as the client saw them):",
                "  model, device, question, follow_up, image, max_new_tokens, runs",
                "  in_process, cluster.batch1: runs (the batch-1 pairs timed: --runs, more while"
                        + " --batch-one-seconds lasts), ttft_ms, decode_tok_s (medians of runs), encode_ms,"
                        + " prefill_ms (the server's, medians), prompt_tokens (image included), completion_tokens,"
                        + " finish_reason (stop, length); in_process.decoder_engine;"
                        + " cluster.batch1.decode_vs_in_process",
                "  cluster: vision_nodes, llm_nodes, max_concurrent (the coordinator's --max-concurrent),"
                        + " rounds_per_stream",
                "  cluster.streams[]: streams, images (same, distinct, none), completed (requests), failed, errors"
                        + " (failed requests by status code), completion_tokens, wall_s, throughput_tok_s (all tokens"
                        + " over the wall time), aggregate_decode_tok_s (the tokens after each request's first over"
                        + " the time from the earliest first token to the latest last one), aggregate_vs_batch1,"
                        + " stream_decode_tok_s_median, ttft_ms_median, ttft_ms_p90; over the completed requests,"
                        + " null when none completed",
                "  cluster.second_turn: first_ttft_ms, second_ttft_ms, ratio (second / first), first_prompt_tokens,"
                        + " second_prompt_tokens, first_encode_ms, second_encode_ms, first_prefill_ms,"
                        + " second_prefill_ms",
                "  cluster.encode: cold_ms, cached_ms (Timings.image_ms of the same new image sent twice), ratio",
                "  cluster.memory[]: node, role (vision, llm, coordinator), pid, rss_ready_bytes (VmRSS once the"
                        + " cluster was ready), rss_end_bytes, hwm_end_bytes (VmRSS and VmHWM after the last phase)"})
final class BenchServingCommand implements Callable<Integer> {
    static final String FOLLOW_UP = DemoCommand.COUNT_QUESTION;

    @ParentCommand
    private BenchCommand bench;

    @Option(names = "--model", paramLabel = "DIR|ORG/NAME", description = "The model: a folder, or a hub id in the"
            + " hub cache (default: the bundled demo model, models/convllava-shapes).")
    String model;

    @Mixin
    HubCacheOption hubCache;

    @Option(names = "--image", paramLabel = "FILE", description = "The image asked about (default: DIR/samples/"
            + BenchCommand.SAMPLE_IMAGE + ", or a synthetic 1024x768 picture when the model has none).")
    Path image;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "The question (default: the demo's grounding"
            + " question with the sample image, the longest answer the demo model gives; else \"Describe the"
            + " image.\").")
    String prompt;

    @Option(names = "--follow-up", paramLabel = "TEXT", defaultValue = FOLLOW_UP,
            description = "The second turn's question (default: ${DEFAULT-VALUE}).")
    String followUp;

    @Mixin
    DeviceOption device;

    @Option(names = "--tokens", defaultValue = "32", paramLabel = "N", description = "Most tokens to generate per"
            + " request, at least 2 (default: ${DEFAULT-VALUE}); a request may stop earlier, at end-of-sequence.")
    int tokens;

    @Option(names = "--runs", defaultValue = "3", paramLabel = "N", description = "Timed batch-1 requests, in process"
            + " and through the cluster, at least (see --batch-one-seconds); their medians are reported; also the"
            + " second-turn and encode pairs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--batch-one-seconds", defaultValue = "20", paramLabel = "S", description = "Keep timing"
            + " batch-1 pairs (in process, then through the cluster, or the other way round) until this long has"
            + " passed too, at most " + ServingBench.MAX_BATCH_ONE_PAIRS + " pairs (default: ${DEFAULT-VALUE}): on a"
            + " shared machine a short answer's decode rate varies from request to request, the median of many does"
            + " not.")
    int batchOneSeconds;

    @Option(names = "--warmups", defaultValue = "2", paramLabel = "N", description = "Untimed requests first, in"
            + " process and through the cluster (default: ${DEFAULT-VALUE}).")
    int warmups;

    @Option(names = "--warmup-seconds", defaultValue = "120", paramLabel = "S", description = "Keep warming the"
            + " cluster up until this long has passed too (the process: at most 30 s of it) (default:"
            + " ${DEFAULT-VALUE}): each JVM's per-token path is compiled only after thousands of calls (the kernels of"
            + " many-session steps and the per-request path later still), and a serving cluster runs warm. Every"
            + " other warm-up request is a burst of the most --streams, --rounds-per-stream requests each.")
    int warmupSeconds;

    @Option(names = "--streams", defaultValue = "1,4,16,32", paramLabel = "N", split = ",",
            description = "Concurrent stream counts, comma-separated, one phase each (default: ${DEFAULT-VALUE}).")
    int[] streams;

    @Option(names = "--rounds-per-stream", defaultValue = "4", paramLabel = "N", description = "Requests each"
            + " stream of a phase sends, one after the other (default: ${DEFAULT-VALUE}): with short answers one"
            + " round is mostly the streams' prompts starting together, several measure steady serving.")
    int roundsPerStream;

    @Option(names = "--stream-images", defaultValue = "same", paramLabel = "same|distinct|none",
            description = "What the streams of a phase ask about: one new image for all of them, a new image each,"
                    + " or no image (the vision node idles; the decoder alone) (default: ${DEFAULT-VALUE}).")
    String streamImages;

    @Option(names = "--json", description = "Print one line of JSON (fields below) instead of the table.")
    boolean json;

    @Option(names = "--node-java-opts", defaultValue = "-Xmx2g", paramLabel = "OPTS",
            description = "JVM options of every node (default: ${DEFAULT-VALUE}).")
    String nodeJavaOptions;

    @Option(names = "--log-dir", paramLabel = "DIR", description = "Where each node's log goes (default: a new"
            + " temporary folder).")
    Path logDir;

    @Option(names = "--ready-timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "How long to wait for the cluster to serve (default: ${DEFAULT-VALUE}).")
    int readyTimeout;

    @Option(names = "--timeout-s", defaultValue = "900", paramLabel = "SECONDS",
            description = "Deadline of each request through the cluster (default: ${DEFAULT-VALUE}).")
    int timeout;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (tokens < 2 || runs < 1 || warmups < 0 || warmupSeconds < 0 || batchOneSeconds < 0 || readyTimeout < 1
                || timeout < 1) {
            throw new UsageException("need --tokens >= 2, --runs >= 1, --warmups >= 0, --warmup-seconds >= 0,"
                    + " --batch-one-seconds >= 0 and positive timeouts, got " + tokens + ", " + runs + ", " + warmups
                    + ", " + warmupSeconds + ", " + batchOneSeconds + ", " + readyTimeout + " and " + timeout);
        }
        if (streams.length == 0 || Arrays.stream(streams).anyMatch(n -> n < 1)) {
            throw new UsageException("--streams takes positive counts like 1,4,16,32, got " + Arrays.toString(streams));
        }
        StreamImages images = streamImages();
        Path dir = model != null ? ModelFiles.locate(model, hubCache.dir) : ModelOptions.bundled();
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new UsageException("--model " + dir + " is not a model folder (no config.json)");
        }
        Path sample = image != null ? image : dir.resolve("samples").resolve(BenchCommand.SAMPLE_IMAGE);
        if (image != null && !Files.isRegularFile(image)) {
            throw new UsageException("--image " + image + " is not a file");
        }
        boolean hasSample = Files.isRegularFile(sample);
        byte[] bytes = hasSample ? Files.readAllBytes(sample) : BenchImages.synthetic(1024, 768);
        String question = prompt != null ? prompt
                : hasSample ? DemoCommand.GROUND_QUESTION : "Describe the image.";
        Path logs = logDir != null ? logDir : Path.of(System.getProperty("java.io.tmpdir"),
                "convllava-bench-serving-" + ProcessHandle.current().pid());
        ServingBench.Settings settings = new ServingBench.Settings(dir, hubCache.dir, device.device,
                new BenchRequests(question, bytes, followUp, tokens),
                hasSample ? sample.toString() : "a synthetic 1024x768 picture", runs, warmups,
                Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(batchOneSeconds), streams, roundsPerStream,
                images, nodeJavaOptions, logs, Duration.ofSeconds(readyTimeout), Duration.ofSeconds(timeout));
        ServingReport report;
        try {
            report = new ServingBench(settings, bench.main().err()).run();
        } catch (StatusRuntimeException e) {
            throw new CommandFailedException(RemoteCallErrors.describe(e, "the bench's local cluster", "127.0.0.1")
                    + "; node logs in " + logs);
        }
        PrintStream out = bench.main().out();
        if (json) {
            out.println(report.json());
        } else {
            report.print(out);
        }
        return 0;
    }

    private StreamImages streamImages() {
        try {
            return StreamImages.valueOf(streamImages.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--stream-images takes same, distinct or none, got '" + streamImages + "'");
        }
    }
}
