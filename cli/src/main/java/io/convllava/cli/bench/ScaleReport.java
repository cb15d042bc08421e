package io.convllava.cli.bench;

import com.google.gson.GsonBuilder;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the real-scale bench measured, as a table or one JSON document (field names documented by
 * {@code convllava bench scale --help}: keep them stable).
 */
public record ScaleReport(String model, String device, List<String> layers, String image, double loadSeconds,
                          StreamTiming imageRequest, StreamTiming longPrompt, List<NodeMemory> memory) {

    public void print(PrintStream out) {
        out.printf("model %s, device %s, llm nodes %s, 1 vision node%n", model, device, String.join(" ", layers));
        out.printf("load: %.1f s from starting the nodes to a cluster that answers%n", loadSeconds);
        out.printf("%-12s %9s %10s %11s %9s %10s %7s%n", "request", "positions", "encode ms", "prefill ms",
                "TTFT ms", "decode/s", "tokens");
        row(out, "image", imageRequest);
        row(out, "long prompt", longPrompt);
        out.printf("%-20s %11s %9s %12s %12s %12s%n", "node", "role", "pid", "RSS ready", "RSS end", "peak RSS");
        for (NodeMemory n : memory) {
            out.printf("%-20s %11s %9d %9.2f GB %9.2f GB %9.2f GB%n", n.node(), n.role(), n.pid(),
                    n.ready().rssBytes() / 1e9, n.end().rssBytes() / 1e9, n.end().hwmBytes() / 1e9);
        }
    }

    private static void row(PrintStream out, String name, StreamTiming t) {
        Double decode = decode(t);
        out.printf("%-12s %9d %10.0f %11.0f %9.0f %10s %7d%n", name, t.promptTokens(), t.encodeMs(), t.prefillMs(),
                t.ttftMs(), decode == null ? "n/a" : String.format("%.2f", decode), t.tokens());
    }

    /** Decode tokens/s, or null when the answer had no decode step (one token). */
    private static Double decode(StreamTiming t) {
        return t.decodeTokens() < 1 || t.lastTokenNanos() <= t.firstTokenNanos() ? null : t.decodeTokensPerSecond();
    }

    public String json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("model", model);
        root.put("device", device);
        root.put("layers", layers);
        root.put("image", image);
        root.put("load_s", loadSeconds);
        root.put("image_request", request(imageRequest));
        root.put("long_prompt", request(longPrompt));
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (NodeMemory n : memory) {
            nodes.add(n.json());
        }
        root.put("memory", nodes);
        return new GsonBuilder().serializeNulls().create().toJson(root);
    }

    private static Map<String, Object> request(StreamTiming t) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt_tokens", t.promptTokens());
        r.put("encode_ms", t.encodeMs());
        r.put("prefill_ms", t.prefillMs());
        r.put("ttft_ms", t.ttftMs());
        r.put("decode_tok_s", decode(t));
        r.put("completion_tokens", t.tokens());
        r.put("finish_reason", t.finishReason());
        return r;
    }
}
