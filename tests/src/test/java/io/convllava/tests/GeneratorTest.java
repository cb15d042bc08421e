package io.convllava.tests;

import io.convllava.common.model.ModelFiles;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.testing.Fixtures;
import io.convllava.cli.local.LocalEngine;
import io.convllava.coordinator.generate.*;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;
import io.convllava.coordinator.text.PromptTooLongException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generation loop's stopping rules and streaming, on the demo model (which answers "Three." here). */
class GeneratorTest {
    private static LocalEngine engine;
    private static byte[] countImage;

    @BeforeAll
    static void load() throws IOException {
        engine = LocalEngine.load(ModelFiles.resolve(Fixtures.shapesModel().toString(), null, null), "cpu", null);
        countImage = Files.readAllBytes(Fixtures.shapesModel().resolve("samples/sample-count-0.png"));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static GenerationRequest count(SamplingParams sampling, int maxNewTokens, List<String> stops) {
        return new GenerationRequest(List.of(ChatMessage.user("How many shapes are in the image?", 1)),
                List.of(ImageInput.ofBytes(countImage)), ConversationTemplate.VICUNA_V1, sampling, maxNewTokens,
                stops, false, false);
    }

    @Test
    void endOfSequenceStopsAndTheStreamedDeltasMakeTheText() {
        StringBuilder streamed = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        GenerationResult r = engine.generator().generate(count(SamplingParams.GREEDY, 40, List.of()), (id, delta) -> {
            ids.add(id);
            streamed.append(delta);
        });
        assertEquals("Three.", r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(r.text(), streamed.toString().strip());
        assertArrayEquals(r.tokens(), ids.stream().mapToInt(Integer::intValue).toArray());
        assertEquals(16, r.imageTokens());
    }

    @Test
    void maxNewTokensEndsWithLength() {
        GenerationResult r = engine.generator().generate(count(SamplingParams.GREEDY, 1, List.of()), TokenListener.NONE);
        assertEquals(1, r.tokens().length);
        assertEquals(FinishReason.LENGTH, r.finishReason());
    }

    @Test
    void aStopStringCutsTheTextAndIsNeverStreamed() {
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = engine.generator().generate(count(SamplingParams.GREEDY, 40, List.of("ee.")),
                (id, delta) -> streamed.append(delta));
        assertEquals("Thr", r.text());
        assertEquals(FinishReason.STOP_STRING, r.finishReason());
        assertEquals("Thr", streamed.toString().strip());
    }

    @Test
    void theSameSeedGivesTheSameTokens() {
        SamplingParams hot = new SamplingParams(5f, 1f, 0, 1234L); // flat enough that seeds matter
        int[] a = engine.generator().generate(count(hot, 12, List.of()), TokenListener.NONE).tokens();
        int[] b = engine.generator().generate(count(hot, 12, List.of()), TokenListener.NONE).tokens();
        assertArrayEquals(a, b);
        int[] other = engine.generator().generate(count(new SamplingParams(5f, 1f, 0, 99L), 12, List.of()),
                TokenListener.NONE).tokens();
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(other),
                "a different seed should sample differently at temperature 5");
    }

    @Test
    void placeholdersMustMatchTheImagesAndPromptsMustFit() {
        GenerationRequest twoPlaceholders = new GenerationRequest(
                List.of(ChatMessage.user("<image>\n<image>\nHow many?", 2)), List.of(ImageInput.ofBytes(countImage)),
                ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, 4, List.of(), false, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> engine.generator().generate(twoPlaceholders, TokenListener.NONE));
        assertTrue(e.getMessage().contains("placeholder"), e.getMessage());

        GenerationRequest huge = new GenerationRequest(List.of(ChatMessage.user("word ".repeat(3000), 0)), List.of(),
                ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, 4, List.of(), false, false);
        PromptTooLongException tooLong = assertThrows(PromptTooLongException.class,
                () -> engine.generator().generate(huge, TokenListener.NONE));
        assertTrue(tooLong.getMessage().contains("2048"), tooLong.getMessage());
    }
}
