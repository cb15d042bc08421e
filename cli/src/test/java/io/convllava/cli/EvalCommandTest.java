package io.convllava.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code convllava eval}'s command line: generating the shapes set, and mistakes named by flag, file and line. */
class EvalCommandTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void generateShapesWritesEveryFormat() {
        Run r = run("eval", "generate-shapes", "--out", dir.toString(), "--scenes", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*textvqa.json +9 questions.*"), r.out());
        for (String file : new String[] {"textvqa.json", "docvqa.json", "pope.jsonl", "mmbench.tsv", "refcoco.jsonl",
                "images/shapes-0002.png", "refcoco-images/shapes-0002.png", "mme/count"}) {
            assertTrue(Files.exists(dir.resolve(file)), file);
        }
    }

    @Test
    void usageMistakesNameTheFlag() {
        Run noTask = run("eval", "--data", "x.json", "--model", "m");
        assertEquals(2, noTask.code());
        assertTrue(noTask.err().contains("missing --task pope|refcoco|textvqa|docvqa|mme|mmbench"), noTask.err());
        Run badTask = run("eval", "--task", "vqav2", "--data", "x.json", "--model", "m");
        assertEquals(2, badTask.code());
        assertTrue(badTask.err().contains("Invalid value for option '--task': unknown task 'vqav2'"), badTask.err());
        Run both = run("eval", "--task", "pope", "--data", "x.json", "--model", "m", "--target", "127.0.0.1:1");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("give either --target"), both.err());
        Run style = run("eval", "--task", "pope", "--data", "x.json", "--target", "127.0.0.1:1", "--prompt-style",
                "short");
        assertEquals(2, style.code());
        assertTrue(style.err().contains("Invalid value for option '--prompt-style'"), style.err());
    }

    @Test
    void aBadDataFileIsNamedWithItsLine() throws IOException {
        Path data = Files.writeString(dir.resolve("pope.jsonl"), "{\"question_id\": 1, \"text\": \"q\"}\n");
        Run r = run("eval", "--task", "pope", "--data", data.toString(), "--target", "127.0.0.1:1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains(data + " line 1: no field 'label'"), r.err());
    }

    @Test
    void anUnreachableClusterStopsTheRunAndSaysWhere() throws IOException {
        run("eval", "generate-shapes", "--out", dir.toString(), "--scenes", "2");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Run r = run("eval", "--task", "refcoco", "--data", dir.resolve("refcoco.jsonl").toString(), "--images",
                dir.resolve("refcoco-images").toString(), "--target", "127.0.0.1:" + port, "--out",
                dir.resolve("out").toString(), "--timeout-s", "20");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("cannot reach the coordinator at 127.0.0.1:" + port), r.err());
        assertTrue(r.err().contains("run the same command again"), r.err());
        assertTrue(Files.exists(dir.resolve("out/predictions.jsonl")));
    }

    @Test
    void theScoreTableComesAsJsonToo() throws IOException {
        // scoring alone: every answer is already in the predictions file, so nothing is asked of the (absent) cluster
        run("eval", "generate-shapes", "--out", dir.toString(), "--scenes", "2");
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        // the right answer to each question, in the answers' own form: "three" -> "Three."
        StringBuilder lines = new StringBuilder();
        JsonObject data = JsonParser.parseString(Files.readString(dir.resolve("textvqa.json"))).getAsJsonObject();
        for (var e : data.getAsJsonArray("data")) {
            JsonObject q = e.getAsJsonObject();
            String answer = q.getAsJsonArray("answers").get(0).getAsString();
            JsonObject line = new JsonObject();
            line.addProperty("id", q.get("question_id").getAsString());
            line.addProperty("image", q.get("image_id").getAsString() + ".png");
            line.addProperty("prompt", q.get("question").getAsString());
            line.addProperty("text", answer.substring(0, 1).toUpperCase() + answer.substring(1) + ".");
            lines.append(line).append('\n');
        }
        Files.writeString(out.resolve("predictions.jsonl"), lines);
        Run r = run("eval", "--task", "textvqa", "--data", dir.resolve("textvqa.json").toString(), "--images",
                dir.resolve("images").toString(), "--target", "127.0.0.1:1", "--prompt-style", "bare", "--out",
                out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject json = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals("textvqa", json.get("task").getAsString());
        assertEquals("bare", json.getAsJsonObject("run").get("prompt_style").getAsString());
        assertEquals(6, json.getAsJsonObject("run").get("requests").getAsInt());
        JsonObject all = json.getAsJsonArray("rows").get(3).getAsJsonObject();
        assertEquals("all", all.get("name").getAsString());
        assertEquals(6, all.get("questions").getAsInt());
        assertEquals(100.0, all.get("accuracy").getAsDouble(), 1e-9);
        assertTrue(Files.readString(out.resolve("scores.txt")).contains("count"));
        assertTrue(r.err().contains("6/6 answered (6 from an earlier run)"), r.err());
    }
}
