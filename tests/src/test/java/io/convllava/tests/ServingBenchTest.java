package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench serving} end to end on the demo model with tiny settings: the JSON document has every documented
 * field, with sane values and the counts asked for. No timing thresholds: this machine's speed is not under test.
 */
class ServingBenchTest {
    private static final int TOKENS = 4;

    @Test
    void theJsonHasEveryFieldWithSaneValues(@TempDir Path logs) {
        CliRun run = CliRun.of("bench", "serving", "--model", Fixtures.shapesModel().toString(), "--streams", "1,2",
                "--rounds-per-stream", "2", "--tokens", String.valueOf(TOKENS), "--runs", "2", "--warmups", "1",
                "--warmup-seconds", "0", "--batch-one-seconds", "0", "--log-dir", logs.toString(), "--node-java-opts",
                "-Xmx512m", "--json");
        JsonObject json = run.json();
        for (String phase : List.of("cluster: starting", "local: llm-1 ready", "cluster: second turn",
                "cluster: encode", "batch 1, in process and through the cluster alternately: pair 1 (at least 2, for at"
                + " least 0 s)", "cluster: 2 concurrent",
                "local: every node stopped")) {
            assertTrue(run.err.contains(phase), "no progress line '" + phase + "' in\n" + run.err);
        }
        assertKeys(json, "model", "device", "question", "follow_up", "image", "max_new_tokens", "runs", "in_process",
                "cluster");
        assertEquals(TOKENS, json.get("max_new_tokens").getAsInt());
        assertEquals(2, json.get("runs").getAsInt());
        assertEquals("cpu", json.get("device").getAsString());

        JsonObject local = json.getAsJsonObject("in_process");
        assertBatchOne(local, "decoder_engine");
        JsonObject cluster = json.getAsJsonObject("cluster");
        assertKeys(cluster, "vision_nodes", "llm_nodes", "max_concurrent", "rounds_per_stream", "batch1", "streams",
                "second_turn", "encode", "memory");
        assertEquals(2, cluster.get("rounds_per_stream").getAsInt());
        assertEquals(1, cluster.get("vision_nodes").getAsInt());
        assertEquals(2, cluster.get("llm_nodes").getAsInt());
        assertTrue(cluster.get("max_concurrent").getAsInt() >= 2);
        JsonObject batch1 = cluster.getAsJsonObject("batch1");
        assertBatchOne(batch1, "decode_vs_in_process");
        positive(batch1, "decode_vs_in_process");
        assertEquals(local.get("prompt_tokens"), batch1.get("prompt_tokens"), "the same prompt in both");

        JsonArray streams = cluster.getAsJsonArray("streams");
        assertEquals(2, streams.size());
        for (int i = 0; i < 2; i++) {
            JsonObject phase = streams.get(i).getAsJsonObject();
            assertKeys(phase, "streams", "images", "completed", "failed", "errors", "completion_tokens", "wall_s",
                    "throughput_tok_s", "aggregate_decode_tok_s", "aggregate_vs_batch1", "stream_decode_tok_s_median",
                    "ttft_ms_median", "ttft_ms_p90");
            int n = i + 1;
            assertEquals(n, phase.get("streams").getAsInt());
            assertEquals(2 * n, phase.get("completed").getAsInt(), "two requests per stream: " + phase);
            assertEquals(0, phase.get("failed").getAsInt());
            assertEquals(0, phase.getAsJsonObject("errors").size());
            assertEquals("same", phase.get("images").getAsString());
            int tokens = phase.get("completion_tokens").getAsInt();
            assertTrue(tokens >= 2 * 2 * n && tokens <= TOKENS * 2 * n, "completion_tokens " + tokens);
            positive(phase, "wall_s", "throughput_tok_s", "aggregate_decode_tok_s", "aggregate_vs_batch1",
                    "stream_decode_tok_s_median", "ttft_ms_median", "ttft_ms_p90");
            assertTrue(phase.get("ttft_ms_p90").getAsDouble() >= phase.get("ttft_ms_median").getAsDouble(),
                    phase.toString());
        }

        JsonObject turn = cluster.getAsJsonObject("second_turn");
        assertKeys(turn, "first_ttft_ms", "second_ttft_ms", "ratio", "first_prompt_tokens", "second_prompt_tokens",
                "first_encode_ms", "second_encode_ms", "first_prefill_ms", "second_prefill_ms");
        positive(turn, "first_ttft_ms", "second_ttft_ms", "ratio", "first_encode_ms", "second_encode_ms",
                "first_prefill_ms", "second_prefill_ms");
        assertTrue(turn.get("second_prompt_tokens").getAsInt() > turn.get("first_prompt_tokens").getAsInt(),
                "the second turn carries the first: " + turn);

        JsonObject encode = cluster.getAsJsonObject("encode");
        assertKeys(encode, "cold_ms", "cached_ms", "ratio");
        positive(encode, "cold_ms");
        nonNegative(encode, "cached_ms", "ratio"); // a cached image costs a hash and a lookup: may round to 0

        JsonArray memory = cluster.getAsJsonArray("memory");
        Set<String> roles = new TreeSet<>();
        for (JsonElement e : memory) {
            JsonObject node = e.getAsJsonObject();
            assertKeys(node, "node", "role", "pid", "rss_ready_bytes", "rss_end_bytes", "hwm_end_bytes");
            positive(node, "pid", "rss_ready_bytes", "rss_end_bytes", "hwm_end_bytes");
            assertTrue(node.get("hwm_end_bytes").getAsLong() >= node.get("rss_end_bytes").getAsLong(), node.toString());
            roles.add(node.get("role").getAsString());
        }
        assertEquals(4, memory.size(), memory.toString());
        assertEquals(Set.of("coordinator", "llm", "vision"), roles);
    }

    private static void assertBatchOne(JsonObject b, String... extra) {
        List<String> keys = new ArrayList<>(List.of("runs", "ttft_ms", "decode_tok_s", "encode_ms", "prefill_ms",
                "prompt_tokens", "completion_tokens", "finish_reason"));
        keys.addAll(List.of(extra));
        assertKeys(b, keys.toArray(String[]::new));
        assertEquals(2, b.get("runs").getAsInt(), "--runs 2 pairs with --batch-one-seconds 0: " + b);
        positive(b, "ttft_ms", "decode_tok_s", "encode_ms", "prefill_ms", "prompt_tokens");
        int tokens = b.get("completion_tokens").getAsInt();
        assertTrue(tokens >= 2 && tokens <= TOKENS, "completion_tokens " + tokens);
        assertTrue(Set.of("stop", "length").contains(b.get("finish_reason").getAsString()), b.toString());
    }

    private static void assertKeys(JsonObject o, String... keys) {
        assertEquals(new TreeSet<>(List.of(keys)), new TreeSet<>(o.keySet()), o.toString());
    }

    private static void positive(JsonObject o, String... keys) {
        for (String key : keys) {
            double v = o.get(key).getAsDouble();
            assertTrue(v > 0 && Double.isFinite(v), key + " = " + v + " in " + o);
        }
    }

    private static void nonNegative(JsonObject o, String... keys) {
        for (String key : keys) {
            double v = o.get(key).getAsDouble();
            assertTrue(v >= 0 && Double.isFinite(v), key + " = " + v + " in " + o);
        }
    }
}
