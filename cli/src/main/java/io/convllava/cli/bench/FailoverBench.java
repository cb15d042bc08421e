package io.convllava.cli.bench;

import io.convllava.cli.LocalCluster;
import io.convllava.cli.RemoteGenerate;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.Message;
import io.convllava.proto.v1.NodeStatus;
import io.convllava.proto.v1.SamplingOptions;
import io.grpc.ManagedChannel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * How long a stream stalls when the llm node serving it is killed (SIGKILL) and the coordinator moves the session to
 * another pipeline: a local cluster without prefix reuse; per run, warm-up requests spread over the pipelines, one
 * stream whose last serving stage is killed after a number of tokens, a replacement node with the same layers, then
 * the same request uninterrupted, to compare tokens and gaps.
 */
public final class FailoverBench {

    /**
     * @param promptWords words of filler in the prompt (about three positions each), for long-context runs
     * @param killAfter   tokens received before the kill
     * @param hfCache     the nodes' --hf-cache, or null
     */
    public record Settings(String model, String hfCache, List<String> layers, int promptWords, int tokens,
                           int killAfter, int runs, int warmups, String nodeJavaOptions, Path logDir,
                           Duration readyTimeout, Duration timeout) {
    }

    /** One kill: which node, and the stream against its uninterrupted twin. */
    public record Result(String killed, int promptTokens, int tokens, boolean identical, double longestGapMs,
                         double uninterruptedLongestGapMs, double totalMs, double uninterruptedTotalMs) {
    }

    private static final int MAX_SEEDS = 20;

    private final Settings settings;
    private final PrintStream progress;
    private LocalCluster cluster;
    private ConvLlavaGrpc.ConvLlavaBlockingStub stub;

    public FailoverBench(Settings settings, PrintStream progress) {
        this.settings = settings;
        this.progress = progress;
    }

    public List<Result> run() throws IOException, InterruptedException {
        LocalCluster.Spec spec = new LocalCluster.Spec(settings.model(), settings.hfCache(), null, "cpu", 0,
                settings.layers(), 0, settings.logDir(), settings.nodeJavaOptions(), List.of("--no-prefix-reuse"));
        List<Result> results = new ArrayList<>();
        try (LocalCluster local = new LocalCluster(spec, progress)) {
            cluster = local;
            ManagedChannel channel = Channels.forAddress(local.start(settings.readyTimeout()), TransportOptions.DEFAULTS);
            try {
                stub = ConvLlavaGrpc.newBlockingStub(channel);
                for (int run = 0; run < settings.runs(); run++) {
                    for (int w = 0; w < settings.warmups(); w++) {
                        warmPair(run, w);
                    }
                    // a sampled answer may end before the kill: then another seed
                    NodeStatus[] killed = new NodeStatus[1];
                    GenerateRequest request = null;
                    Stream failed = null;
                    for (int seed = run; killed[0] == null; seed += settings.runs()) {
                        if (seed >= run + MAX_SEEDS * settings.runs()) {
                            throw new IllegalStateException(MAX_SEEDS + " answers ended before --kill-after "
                                    + settings.killAfter() + " tokens: lower it");
                        }
                        request = request("Tell me a story, run " + run, seed);
                        awaitIdle();
                        failed = stream(request, n -> {
                            if (n == settings.killAfter()) {
                                killed[0] = killServingNode();
                            }
                        });
                    }
                    replace(killed[0]);
                    Stream reference = stream(request, n -> { });
                    Result result = new Result(killed[0].getId(), reference.promptTokens, failed.tokens.size(),
                            failed.tokens.equals(reference.tokens), failed.longestGapMs(),
                            reference.longestGapMs(), failed.totalMs(), reference.totalMs());
                    progress.printf(Locale.ROOT, "failover: run %d, %s killed: %s, longest gap %.0f ms%n", run,
                            result.killed(), result.identical() ? "identical tokens" : "TOKENS DIFFER",
                            result.longestGapMs());
                    results.add(result);
                }
            } finally {
                channel.shutdownNow();
            }
        }
        return results;
    }

    /** Two requests at once, so that both go through the JIT of every pipeline they land on. */
    private void warmPair(int run, int w) throws InterruptedException {
        Thread other = new Thread(() -> stream(request("Warm up " + run + "/" + w + "a", w), n -> { }));
        other.start();
        stream(request("Warm up " + run + "/" + w + "b", w), n -> { });
        other.join();
    }

    /** Sampled at temperature 1 and seeded, so that it runs its full length and any divergence shows. */
    private GenerateRequest request(String opening, long seed) {
        StringBuilder text = new StringBuilder(opening).append(" about");
        for (int i = 0; i < settings.promptWords(); i++) {
            text.append(" shapes").append(i % 10);
        }
        return GenerateRequest.newBuilder()
                .addMessages(Message.newBuilder().setRole(Message.Role.USER).setText(text.toString()))
                .setMaxNewTokens(settings.tokens())
                .setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(seed)).build();
    }

    private Stream stream(GenerateRequest request, IntConsumer afterTokens) {
        Stream s = new Stream();
        Final last = RemoteGenerate.stream(stub.getChannel(), request, settings.timeout(), delta -> {
            for (int t : delta.getTokenIdsList()) {
                s.tokens.add(t);
                s.arrivals.add(System.nanoTime() - s.start);
                afterTokens.accept(s.tokens.size());
            }
        });
        s.promptTokens = last.getUsage().getPromptTokens();
        return s;
    }

    /** SIGKILL of the last stage with a call in flight (the coordinator's own count): the one serving the stream. */
    private NodeStatus killServingNode() {
        NodeStatus victim = status().getNodesList().stream()
                .filter(n -> n.getRole() == NodeStatus.Role.LLM && n.getHealthy() && n.getLoad() > 0)
                .max(Comparator.comparingInt(n -> n.getLayers().getEnd()))
                .orElseThrow(() -> new IllegalStateException("no llm node has the stream in flight"));
        Long pid = cluster.pids().get(victim.getId());
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        return victim;
    }

    /**
     * Waits until no node reports load left from the warm-up (nodes report it every second), so that the only node
     * with load during the measured stream is one serving it.
     */
    private void awaitIdle() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (status().getNodesList().stream().anyMatch(n -> n.getHealthy() && n.getLoad() > 0)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the cluster stays busy after the warm-up: " + status());
            }
            Thread.sleep(100);
        }
    }

    /** Starts an llm node with the killed one's layers and waits until the coordinator has it in a pipeline. */
    private void replace(NodeStatus killed) throws IOException, InterruptedException {
        String name = cluster.addLlmNode(killed.getLayers().getStart() + "-" + killed.getLayers().getEnd());
        long deadline = System.nanoTime() + settings.readyTimeout().toNanos();
        while (status().getPipelinesList().stream().noneMatch(p -> p.getNodeIdsList().contains(name))) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the replacement " + name + " did not join a pipeline within "
                        + settings.readyTimeout().toSeconds() + " s; node logs in " + settings.logDir());
            }
            Thread.sleep(100);
        }
    }

    private ClusterStatus status() {
        return stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    }

    /** A stream's token ids and when each arrived, in nanoseconds after the call started. */
    private static final class Stream {
        final long start = System.nanoTime();
        final List<Integer> tokens = new ArrayList<>();
        final List<Long> arrivals = new ArrayList<>();
        int promptTokens;

        double longestGapMs() {
            long longest = 0;
            for (int i = 1; i < arrivals.size(); i++) {
                longest = Math.max(longest, arrivals.get(i) - arrivals.get(i - 1));
            }
            return longest / 1e6;
        }

        double totalMs() {
            return arrivals.isEmpty() ? 0 : arrivals.get(arrivals.size() - 1) / 1e6;
        }
    }
}
