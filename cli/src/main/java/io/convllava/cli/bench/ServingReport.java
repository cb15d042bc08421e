package io.convllava.cli.bench;

import com.google.gson.GsonBuilder;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * Everything one serving bench measured, as a table for people or one JSON document for machines (field names
 * documented by {@code convllava bench serving --help}: keep them stable).
 */
public record ServingReport(Setup setup, BatchOne inProcess, String decoderEngine, BatchOne cluster,
                            List<ConcurrentStreams.Result> streams, StreamTiming firstTurn, StreamTiming secondTurn,
                            StreamTiming encodeCold, StreamTiming encodeCached, List<NodeMemory> memory) {

    /** What was benched and how. */
    public record Setup(String model, String device, String question, String followUp, String image,
                        int maxNewTokens, int runs, int roundsPerStream, String streamImages, int visionNodes,
                        int llmNodes, int maxConcurrent) {
    }

    public double clusterVsInProcess() {
        return cluster.decodeTokensPerSecond() / inProcess.decodeTokensPerSecond();
    }

    public double secondTurnRatio() {
        return secondTurn.ttftMs() / firstTurn.ttftMs();
    }

    public double encodeRatio() {
        return encodeCached.imageMs() / encodeCold.imageMs();
    }

    /** One line of JSON. */
    public String json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("model", setup.model());
        root.put("device", setup.device());
        root.put("question", setup.question());
        root.put("follow_up", setup.followUp());
        root.put("image", setup.image());
        root.put("max_new_tokens", setup.maxNewTokens());
        root.put("runs", setup.runs());
        Map<String, Object> local = batchOne(inProcess);
        local.put("decoder_engine", decoderEngine);
        root.put("in_process", local);

        Map<String, Object> c = new LinkedHashMap<>();
        c.put("vision_nodes", setup.visionNodes());
        c.put("llm_nodes", setup.llmNodes());
        c.put("max_concurrent", setup.maxConcurrent());
        c.put("rounds_per_stream", setup.roundsPerStream());
        Map<String, Object> b1 = batchOne(cluster);
        b1.put("decode_vs_in_process", round(clusterVsInProcess()));
        c.put("batch1", b1);
        List<Map<String, Object>> phases = new ArrayList<>();
        for (ConcurrentStreams.Result r : streams) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("streams", r.streams());
            p.put("images", setup.streamImages());
            p.put("completed", r.timings().size());
            p.put("failed", r.failures().size());
            p.put("errors", errorCounts(r.failures()));
            p.put("completion_tokens", r.completionTokens());
            p.put("wall_s", round(r.wallSeconds()));
            p.put("throughput_tok_s", round(r.throughputTokensPerSecond()));
            p.put("aggregate_decode_tok_s", round(r.aggregateDecodeTokensPerSecond()));
            p.put("aggregate_vs_batch1", round(vsBatchOne(r)));
            p.put("stream_decode_tok_s_median", round(r.medianStreamDecodeTokensPerSecond()));
            p.put("ttft_ms_median", round(r.ttftMs(50)));
            p.put("ttft_ms_p90", round(r.ttftMs(90)));
            phases.add(p);
        }
        c.put("streams", phases);
        Map<String, Object> turn = new LinkedHashMap<>();
        turn.put("first_ttft_ms", round(firstTurn.ttftMs()));
        turn.put("second_ttft_ms", round(secondTurn.ttftMs()));
        turn.put("ratio", round(secondTurnRatio()));
        turn.put("first_prompt_tokens", firstTurn.promptTokens());
        turn.put("second_prompt_tokens", secondTurn.promptTokens());
        turn.put("first_encode_ms", round(firstTurn.encodeMs()));
        turn.put("second_encode_ms", round(secondTurn.encodeMs()));
        turn.put("first_prefill_ms", round(firstTurn.prefillMs()));
        turn.put("second_prefill_ms", round(secondTurn.prefillMs()));
        c.put("second_turn", turn);
        Map<String, Object> encode = new LinkedHashMap<>();
        encode.put("cold_ms", round(encodeCold.imageMs()));
        encode.put("cached_ms", round(encodeCached.imageMs()));
        encode.put("ratio", Math.round(encodeRatio() * 1e6) / 1e6); // a cached image's share is well under 0.001
        c.put("encode", encode);
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (NodeMemory m : memory) {
            nodes.add(m.json());
        }
        c.put("memory", nodes);
        root.put("cluster", c);
        return new GsonBuilder().serializeNulls().create().toJson(root);
    }

    private static Map<String, Object> batchOne(BatchOne b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("runs", b.runs());
        m.put("ttft_ms", round(b.ttftMs()));
        m.put("decode_tok_s", round(b.decodeTokensPerSecond()));
        m.put("encode_ms", round(b.encodeMs()));
        m.put("prefill_ms", round(b.prefillMs()));
        m.put("prompt_tokens", b.promptTokens());
        m.put("completion_tokens", b.completionTokens());
        m.put("finish_reason", b.finishReason());
        return m;
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    /** Rounded, or null (JSON null) when no stream completed. */
    private static Double round(OptionalDouble value) {
        return value.isPresent() ? round(value.getAsDouble()) : null;
    }

    private OptionalDouble vsBatchOne(ConcurrentStreams.Result r) {
        OptionalDouble aggregate = r.aggregateDecodeTokensPerSecond();
        return aggregate.isPresent() ? OptionalDouble.of(aggregate.getAsDouble() / cluster.decodeTokensPerSecond())
                : aggregate;
    }

    /** Failed streams by status code: {"DEADLINE_EXCEEDED": 3}. */
    private static Map<String, Integer> errorCounts(List<String> failures) {
        Map<String, Integer> counts = new TreeMap<>();
        failures.forEach(f -> counts.merge(f.substring(0, Math.max(0, f.indexOf(':'))), 1, Integer::sum));
        return counts;
    }

    /** The table. */
    public void print(PrintStream out) {
        out.printf("serving bench: %s on %s, \"%s\" about %s, greedy, at most %d new tokens; batch 1: median of %d"
                        + " runs each, in process and cluster alternately%n", setup.model(), setup.device(),
                setup.question(), setup.image(), setup.maxNewTokens(), cluster.runs());
        out.println();
        out.printf("%-34s %10s %12s %10s %10s %8s %8s%n", "batch 1", "TTFT ms", "decode tok/s", "encode ms",
                "prefill ms", "prompt", "tokens");
        printBatchOne(out, "in process (" + decoderEngine + " decoder)", inProcess);
        printBatchOne(out, "cluster (" + setup.visionNodes() + " vision + " + setup.llmNodes() + " llm nodes)",
                cluster);
        out.printf("cluster decode / in process: %.2fx%n", clusterVsInProcess());
        out.println();
        out.printf("concurrent streams through the cluster (images: %s; %d requests in a row per stream; coordinator"
                + " --max-concurrent %d)%n", setup.streamImages(), setup.roundsPerStream(), setup.maxConcurrent());
        out.printf("%7s %16s %10s %17s %12s %12s %8s %8s %7s%n", "streams", "aggregate decode", "x batch 1",
                "median per stream", "TTFT median", "TTFT p90", "tokens", "wall s", "failed");
        for (ConcurrentStreams.Result r : streams) {
            out.printf("%7d %10s tok/s %9sx %11s tok/s %9s ms %9s ms %8d %8.1f %7d%n", r.streams(),
                    cell(r.aggregateDecodeTokensPerSecond(), "%.1f"), cell(vsBatchOne(r), "%.2f"),
                    cell(r.medianStreamDecodeTokensPerSecond(), "%.1f"), cell(r.ttftMs(50), "%.0f"),
                    cell(r.ttftMs(90), "%.0f"), r.completionTokens(), r.wallSeconds(), r.failures().size());
            if (!r.failures().isEmpty()) {
                out.println("        failed: " + errorCounts(r.failures()) + "; the first: " + r.failures().get(0));
            }
        }
        out.println();
        out.printf("second turn (the conversation so far + \"%s\", same image; the median of %d conversations):"
                        + " TTFT %.0f ms (%d positions) after %.0f ms (%d positions) = %.2fx; encode %.0f -> %.0f ms,"
                        + " prefill %.0f -> %.0f ms%n",
                setup.followUp(), setup.runs(), secondTurn.ttftMs(), secondTurn.promptTokens(), firstTurn.ttftMs(),
                firstTurn.promptTokens(), secondTurnRatio(), firstTurn.encodeMs(), secondTurn.encodeMs(),
                firstTurn.prefillMs(), secondTurn.prefillMs());
        out.printf("encode (one new image twice, the coordinator's time for the image, Timings.image_ms; the median of"
                + " %d images): cold %.1f ms, cached %.2f ms = %.2f%%%n", setup.runs(), encodeCold.imageMs(),
                encodeCached.imageMs(), 100 * encodeRatio());
        out.println();
        out.printf("%-22s %8s %16s %16s %16s%n", "resident memory", "pid", "RSS when ready", "RSS at the end",
                "peak (VmHWM)");
        for (NodeMemory m : memory) {
            out.printf("%-22s %8d %13.0f MiB %13.0f MiB %13.0f MiB%n", m.node(), m.pid(), mib(m.ready().rssBytes()),
                    mib(m.end().rssBytes()), mib(m.end().hwmBytes()));
        }
    }

    private static void printBatchOne(PrintStream out, String label, BatchOne b) {
        out.printf("%-34s %10.0f %12.1f %10.0f %10.0f %8d %8d  (%s)%n", label, b.ttftMs(), b.decodeTokensPerSecond(),
                b.encodeMs(), b.prefillMs(), b.promptTokens(), b.completionTokens(), b.finishReason());
    }

    private static String cell(OptionalDouble value, String format) {
        return value.isPresent() ? String.format(Locale.ROOT, format, value.getAsDouble()) : "-";
    }

    private static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }
}
