package io.convllava.cli.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.cli.local.LocalEngine;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs against the demo model in this process: answers are the samples' reference answers, every answer is in the
 * predictions file, a bad image fails its question only, and a second run asks only what the first did not answer.
 */
class EvalRunTest {
    private static LocalAnswerer model;
    private static JsonArray samples;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws IOException {
        Path shapes = Fixtures.shapesModel();
        model = new LocalAnswerer(LocalEngine.load(ModelFiles.resolve(shapes.toString(), null, null), "cpu", null),
                "convllava-shapes", "vicuna_v1", 32);
        samples = JsonParser.parseString(Files.readString(shapes.resolve("samples.json"))).getAsJsonObject()
                .getAsJsonArray("samples");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The samples' count and colour questions, plus one about a file that is no image. */
    private List<EvalQuestion> questions() throws IOException {
        List<EvalQuestion> questions = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            JsonObject s = samples.get(i).getAsJsonObject();
            String kind = s.get("kind").getAsString();
            if (kind.equals("count") || kind.equals("color")) {
                questions.add(new EvalQuestion("sample-" + i,
                        EvalImage.file(Fixtures.shapesModel().resolve(s.get("image").getAsString())),
                        s.get("question").getAsString()));
            }
        }
        Path broken = Files.writeString(dir.resolve("broken.png"), "not an image");
        questions.add(new EvalQuestion("broken", EvalImage.file(broken), "How many shapes are in the image?"));
        return questions;
    }

    @Test
    void answersAreKeptAndASecondRunAsksOnlyTheRest() throws Exception {
        List<EvalQuestion> questions = questions();
        Path file = dir.resolve("predictions.jsonl");
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        EvalRun.Outcome first;
        try (PredictionsFile predictions = PredictionsFile.open(file)) {
            first = EvalRun.run(questions, model, predictions, 2,
                    ProgressLine.on(new PrintStream(progress, true, StandardCharsets.UTF_8), "test", false));
        }
        assertEquals(4, first.asked());
        assertEquals(0, first.resumed());
        assertEquals(1, first.failures().size());
        assertTrue(first.failures().get(0).startsWith("broken: image 0: "), first.failures().get(0));
        for (int i = 0; i < samples.size(); i++) {
            JsonObject s = samples.get(i).getAsJsonObject();
            String answer = first.answers().get("sample-" + i);
            if (answer != null) {
                assertEquals(s.get("reference_answer").getAsString(), answer, s.get("image").getAsString());
            }
        }
        assertEquals(4, Files.readAllLines(file).size(), "a line per answer, none for the failed question");
        assertTrue(progress.toString(StandardCharsets.UTF_8).contains("eval test: 4/5 answered, 1 failed"),
                progress.toString(StandardCharsets.UTF_8));

        EvalRun.Outcome second;
        try (PredictionsFile predictions = PredictionsFile.open(file)) {
            second = EvalRun.run(questions, model, predictions, 2, ProgressLine.on(
                    new PrintStream(OutputStream.nullOutputStream()), "test", false));
        }
        assertEquals(4, second.resumed());
        assertEquals(0, second.asked(), "only the broken question is asked again, and fails again");
        assertEquals(1, second.failures().size());
        assertEquals(first.answers(), second.answers());
    }

    @Test
    void aPredictionsFileOfOtherQuestionsIsRefused() throws Exception {
        List<EvalQuestion> questions = questions();
        Path file = dir.resolve("predictions.jsonl");
        try (PredictionsFile predictions = PredictionsFile.open(file)) {
            predictions.append(new Prediction(questions.get(0).id(), "x.png", "What is this?", "A dog."));
        }
        try (PredictionsFile predictions = PredictionsFile.open(file)) {
            BenchmarkFormatException e = assertThrows(BenchmarkFormatException.class, () -> EvalRun.run(questions,
                    model, predictions, 1, ProgressLine.on(new PrintStream(OutputStream.nullOutputStream()), "t",
                            false)));
            assertTrue(e.getMessage().contains("asked differently"), e.getMessage());
        }
    }
}
