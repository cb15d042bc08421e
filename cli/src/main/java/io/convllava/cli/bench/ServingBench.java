package io.convllava.cli.bench;

import io.convllava.cli.LocalCluster;
import io.convllava.cli.local.LocalEngine;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.generate.GenerationResult;
import io.convllava.proto.v1.GenerateRequest;
import io.grpc.ManagedChannel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.ToDoubleFunction;

/**
 * The serving bench: the model in this process and a local cluster (1 vision node, 2 llm nodes splitting the
 * layers, a coordinator, each in its own JVM) measured through the public API with a real client. The batch-1
 * requests of the two alternate (the in-process engine stays loaded while the cluster runs), so that their ratio
 * compares the same minutes of a noisy machine. Every request is greedy; unless a phase says otherwise it asks about
 * a variant of the bench image that no cache has seen (other bytes, the same picture), so that repeated runs
 * measure the same work.
 */
public final class ServingBench {
    static final int VISION_NODES = 1;
    static final int LLM_NODES = 2;
    /** One JVM's decode path compiles within this; the cluster's four JVMs and their calls take longer. */
    static final Duration IN_PROCESS_WARMUP = Duration.ofSeconds(30);
    /** Batch-1 pairs at most, however short they are. */
    public static final int MAX_BATCH_ONE_PAIRS = 200;

    /**
     * What to run. {@code streams}: the concurrent stream counts, in order. Warm-up requests go on until there have
     * been {@code warmups} of them and {@code warmup} has passed: the cluster's per-token path (gRPC, Netty, the
     * scheduler) runs in five JVMs, each reaching compiled code only after thousands of calls. Batch-1 pairs go on
     * until there have been {@code runs} of them and {@code batchOne} has passed (at most
     * {@value #MAX_BATCH_ONE_PAIRS}).
     */
    public record Settings(Path model, Path hfCache, String device, BenchRequests requests, String imageLabel,
                           int runs, int warmups, Duration warmup, Duration batchOne, int[] streams,
                           int roundsPerStream, StreamImages streamImages, String nodeJavaOptions, Path logDir,
                           Duration readyTimeout, Duration requestTimeout) {

        /** The coordinator admits every stream at once (never fewer than its default 8). */
        int maxConcurrent() {
            return Math.max(8, Arrays.stream(streams).max().orElse(1));
        }
    }

    private final Settings settings;
    private final PrintStream progress;
    private int nextVariant = 1;

    public ServingBench(Settings settings, PrintStream progress) {
        this.settings = settings;
        this.progress = progress;
    }

    public ServingReport run() throws IOException, InterruptedException {
        say("in process: loading " + settings.model());
        ModelFiles files = ModelFiles.resolve(settings.model().toString(), settings.hfCache(), null);
        try (LocalEngine engine = LocalEngine.load(files, settings.device(), null,
                line -> say("in process: " + line))) {
            Duration warmup = settings.warmup().compareTo(IN_PROCESS_WARMUP) < 0 ? settings.warmup()
                    : IN_PROCESS_WARMUP;
            warmUp("in process", warmup, i -> generateInProcess(engine));
            return cluster(engine);
        }
    }

    private StreamTiming generateInProcess(LocalEngine engine) {
        BenchRequests fresh = settings.requests().about(freshImage());
        TokenClock clock = new TokenClock();
        GenerationResult result = engine.generator().generate(fresh.inProcess(), (id, delta) -> clock.onTokens(1));
        return clock.finish(result.promptTokens() + result.imageTokens(), result.timings().encodeMs(),
                result.timings().imageMs(), result.timings().prefillMs(), result.text(),
                result.finishReason().name().toLowerCase(Locale.ROOT));
    }

    private ServingReport cluster(LocalEngine engine) throws IOException, InterruptedException {
        List<String> layers = new ArrayList<>();
        for (int i = 0; i < LLM_NODES; i++) {
            layers.add("auto");
        }
        String hfCache = settings.hfCache() == null ? null : settings.hfCache().toString();
        LocalCluster.Spec spec = new LocalCluster.Spec(settings.model().toString(), hfCache, null, settings.device(),
                VISION_NODES, layers, 0, settings.logDir(), settings.nodeJavaOptions(),
                List.of("--max-concurrent", String.valueOf(settings.maxConcurrent())));
        say("cluster: starting ZooKeeper, " + VISION_NODES + " vision node, " + LLM_NODES + " llm nodes (--layers"
                + " auto) and a coordinator; node logs in " + settings.logDir());
        try (LocalCluster cluster = new LocalCluster(spec, progress)) {
            String endpoint = cluster.start(settings.readyTimeout());
            Map<String, ResidentMemory> ready = ResidentMemory.of(cluster.pids());
            say("cluster: ready at " + endpoint);
            ManagedChannel channel = Channels.forAddress(endpoint, TransportOptions.DEFAULTS);
            try {
                return measure(channel, engine, cluster, ready);
            } finally {
                channel.shutdownNow();
            }
        }
    }

    private ServingReport measure(ManagedChannel channel, LocalEngine engine, LocalCluster cluster,
                                  Map<String, ResidentMemory> ready) throws IOException, InterruptedException {
        BenchRequests requests = settings.requests();
        // every other warm-up is a burst of the most concurrent streams, each sending --rounds-per-stream requests
        // as the timed phases do: steps of many sessions run other code (grouped products, ForwardBatch), and the
        // per-request path (a call's setup, prefill, release) runs as many times a second as there, so both are
        // compiled before timing starts (with one request per stream, the per-request path was still being compiled
        // during the timed phases: a fifth of the CPU went to the coordinator's and the client's C2 threads); every
        // fourth a follow-up question, which continues from a kept prefix
        int burst = Arrays.stream(settings.streams()).max().orElse(1);
        warmUp("cluster", settings.warmup(), i -> {
            if (i % 2 == 1 && burst > 1) {
                ConcurrentStreams.run(channel, burst, settings.roundsPerStream(), streamRequests(burst),
                        settings.requestTimeout());
            } else if (i % 4 == 2) {
                twoTurns(channel, "bench-warmup-" + i, "bench-warmup-" + i + "-turn-2");
            } else {
                call(channel, requests.withImage("bench-warmup-" + i, freshImage(), requests.maxTokens()));
            }
        });
        // each a single pair of requests, so as many pairs as batch-1 runs: the pair with the median ratio is reported
        List<StreamTiming[]> turns = new ArrayList<>();
        List<StreamTiming[]> encodes = new ArrayList<>();
        for (int i = 0; i < settings.runs(); i++) {
            say("cluster: second turn (a new image, then a follow-up in the same conversation), run " + (i + 1) + "/"
                    + settings.runs());
            turns.add(twoTurns(channel, "bench-turn-1-" + i, "bench-turn-2-" + i));

            say("cluster: encode, one new image twice, run " + (i + 1) + "/" + settings.runs());
            byte[] encodeImage = freshImage();
            encodes.add(new StreamTiming[]{call(channel, requests.withImage("bench-encode-cold-" + i, encodeImage, 1)),
                    call(channel, requests.withImage("bench-encode-cached-" + i, encodeImage, 1))});
        }
        StreamTiming[] turn = medianPair(turns, t -> t[1].ttftMs() / t[0].ttftMs());
        StreamTiming[] encode = medianPair(encodes, e -> e[1].imageMs() / e[0].imageMs());

        List<StreamTiming> localRuns = new ArrayList<>();
        List<StreamTiming> clusterRuns = new ArrayList<>();
        batchOnePairs(engine, channel, localRuns, clusterRuns);
        BatchOne batchOne = BatchOne.of(clusterRuns);

        List<ConcurrentStreams.Result> phases = new ArrayList<>();
        for (int n : settings.streams()) {
            say("cluster: " + n + " concurrent stream(s)");
            IntFunction<GenerateRequest> request = streamRequests(n);
            ConcurrentStreams.Result r = ConcurrentStreams.run(channel, n, settings.roundsPerStream(), request,
                    settings.requestTimeout());
            say(String.format(Locale.ROOT, "cluster: %d stream(s): %d completed, %.1f tokens/s aggregate decode,"
                    + " TTFT median %.0f ms", n, r.timings().size(), r.aggregateDecodeTokensPerSecond().orElse(0),
                    r.ttftMs(50).orElse(0)));
            if (!r.failures().isEmpty()) {
                say("cluster: " + r.failures().size() + " stream(s) failed; the first: " + r.failures().get(0));
            }
            phases.add(r);
        }

        Map<String, ResidentMemory> end = ResidentMemory.of(cluster.pids());
        List<NodeMemory> memory = new ArrayList<>();
        cluster.pids().forEach((node, pid) -> memory.add(new NodeMemory(node, pid, ready.get(node), end.get(node))));
        ServingReport.Setup setup = new ServingReport.Setup(settings.model().toString(), settings.device(),
                requests.question(), requests.followUp(), settings.imageLabel(), requests.maxTokens(),
                settings.runs(), settings.roundsPerStream(), settings.streamImages().name().toLowerCase(Locale.ROOT),
                VISION_NODES, LLM_NODES,
                settings.maxConcurrent());
        return new ServingReport(setup, BatchOne.of(localRuns), engine.decoderEngine(), batchOne, phases, turn[0],
                turn[1], encode[0], encode[1], memory);
    }

    /**
     * Batch-1 requests in process and through the cluster alternately, each going first in every other pair, until
     * there have been {@code runs} pairs and {@code batchOne} has passed.
     */
    private void batchOnePairs(LocalEngine engine, ManagedChannel channel, List<StreamTiming> localRuns,
                               List<StreamTiming> clusterRuns) {
        long start = System.nanoTime();
        long end = start + settings.batchOne().toNanos();
        long nextReport = start;
        for (int i = 0; i < MAX_BATCH_ONE_PAIRS && (i < settings.runs() || System.nanoTime() < end); i++) {
            if (System.nanoTime() >= nextReport) {
                say(String.format(Locale.ROOT, "batch 1, in process and through the cluster alternately: pair %d (at"
                        + " least %d, for at least %d s)", i + 1, settings.runs(), settings.batchOne().toSeconds()));
                nextReport = System.nanoTime() + 5_000_000_000L;
            }
            if (i % 2 == 0) {
                localRuns.add(generateInProcess(engine));
                clusterRuns.add(clusterBatchOne(channel, i));
            } else {
                clusterRuns.add(clusterBatchOne(channel, i));
                localRuns.add(generateInProcess(engine));
            }
        }
    }

    /** Batch-1 run i through the cluster's public API. */
    private StreamTiming clusterBatchOne(ManagedChannel channel, int i) {
        BenchRequests requests = settings.requests();
        return call(channel, requests.withImage("bench-b1-" + i, freshImage(), requests.maxTokens()));
    }

    /** The question about a new image, then the follow-up in the same conversation: both turns' timings. */
    private StreamTiming[] twoTurns(ManagedChannel channel, String firstId, String secondId) {
        BenchRequests sameImage = settings.requests().about(freshImage());
        StreamTiming first = call(channel, sameImage.withImage(firstId));
        return new StreamTiming[]{first, call(channel, sameImage.secondTurn(secondId, first.text()))};
    }

    /** The pair whose ratio is the median of the pairs' (the lower middle one of an even count). */
    private static StreamTiming[] medianPair(List<StreamTiming[]> pairs, ToDoubleFunction<StreamTiming[]> ratio) {
        List<StreamTiming[]> sorted = new ArrayList<>(pairs);
        sorted.sort(Comparator.comparingDouble(ratio));
        return sorted.get((sorted.size() - 1) / 2);
    }

    /** Warm-up request number i. */
    private interface WarmUpRequest {
        void run(int i) throws InterruptedException;
    }

    /** Untimed requests until there have been {@code warmups} of them and {@code warmup} has passed. */
    private void warmUp(String where, Duration warmup, WarmUpRequest request) throws InterruptedException {
        long start = System.nanoTime();
        long end = start + warmup.toNanos();
        long nextReport = start;
        int i = 0;
        for (; i < settings.warmups() || System.nanoTime() < end; i++) {
            if (System.nanoTime() >= nextReport) {
                say(String.format(Locale.ROOT, "%s: warm-up request %d (at least %d, for at least %d s)", where,
                        i + 1, settings.warmups(), warmup.toSeconds()));
                nextReport = System.nanoTime() + 5_000_000_000L;
            }
            request.run(i);
        }
        say(String.format(Locale.ROOT, "%s: warmed up with %d requests in %.1f s", where, i,
                (System.nanoTime() - start) / 1e9));
    }

    /** Stream i's request in a phase of {@code n} streams. */
    private IntFunction<GenerateRequest> streamRequests(int n) {
        BenchRequests requests = settings.requests();
        String prefix = "bench-" + n + "-streams-";
        return switch (settings.streamImages()) {
            case SAME -> {
                byte[] image = freshImage();
                yield i -> requests.withImage(prefix + i, image, requests.maxTokens());
            }
            case NONE -> i -> requests.textOnly(prefix + i);
            case DISTINCT -> {
                List<byte[]> images = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    images.add(freshImage());
                }
                yield i -> requests.withImage(prefix + i, images.get(i), requests.maxTokens());
            }
        };
    }

    private StreamTiming call(ManagedChannel channel, GenerateRequest request) {
        return TimedCall.generate(channel, request, settings.requestTimeout());
    }

    private byte[] freshImage() {
        return BenchImages.variant(settings.requests().image(), nextVariant++);
    }

    private void say(String line) {
        progress.println("bench serving: " + line);
        progress.flush();
    }
}
