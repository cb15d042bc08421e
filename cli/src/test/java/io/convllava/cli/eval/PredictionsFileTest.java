package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The predictions file keeps every answer written, and survives a write that never finished. */
class PredictionsFileTest {
    @TempDir
    Path dir;

    @Test
    void answersWrittenAreThereWhenTheFileIsOpenedAgain() throws IOException {
        Path file = dir.resolve("out/predictions.jsonl");
        try (PredictionsFile predictions = PredictionsFile.open(file)) {
            assertTrue(predictions.existing().isEmpty());
            predictions.append(new Prediction("1", "a.png", "How many?", "Three."));
            predictions.append(new Prediction("2", "b.png", "Say \"hi\"\n", "hi"));
        }
        try (PredictionsFile predictions = PredictionsFile.open(file)) {
            assertEquals(2, predictions.existing().size());
            assertEquals("Three.", predictions.existing().get("1").text());
            assertEquals("Say \"hi\"\n", predictions.existing().get("2").prompt());
            assertFalse(predictions.droppedUnfinishedLine());
        }
    }

    @Test
    void anUnfinishedLastLineIsDroppedAndWritingGoesOnAfterTheLastWholeOne() throws IOException {
        Path file = dir.resolve("predictions.jsonl");
        Files.writeString(file, "{\"id\":\"1\",\"image\":\"a.png\",\"prompt\":\"q\",\"text\":\"Two.\"}\n"
                + "{\"id\":\"2\",\"ima");
        try (PredictionsFile predictions = PredictionsFile.open(file)) {
            assertTrue(predictions.droppedUnfinishedLine());
            assertEquals(1, predictions.existing().size());
            predictions.append(new Prediction("2", "b.png", "q", "One."));
        }
        try (PredictionsFile predictions = PredictionsFile.open(file)) {
            assertEquals("One.", predictions.existing().get("2").text());
        }
    }

    @Test
    void aFileOfSomethingElseIsRefusedByName() throws IOException {
        Path file = dir.resolve("other.jsonl");
        Files.writeString(file, "[1, 2, 3]\n");
        BenchmarkFormatException e = assertThrows(BenchmarkFormatException.class, () -> PredictionsFile.open(file));
        assertTrue(e.getMessage().startsWith(file + " line 1: not a prediction line"), e.getMessage());
    }
}
