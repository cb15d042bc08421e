package io.convllava.coordinator.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptBuilderTest {

    private final PromptBuilder builder = new PromptBuilder(TokenizerFixtures.spm());

    @Test
    void imagePlaceholdersAtTheEdgesAndSideBySide() {
        // every chunk is tokenized on its own: "" gives nothing, "\n" gives ▁ <0x0A>
        assertArrayEquals(new int[] {1, -200}, builder.tokenizeWithImages("<image>"));
        assertArrayEquals(new int[] {1, -200, -200, 29871, 13}, builder.tokenizeWithImages("<image><image>\n"));
        assertArrayEquals(new int[] {1, 15043, -200, 3186}, builder.tokenizeWithImages("Hello<image>world"));
        assertArrayEquals(new int[] {1}, builder.tokenizeWithImages(""));
    }

    @Test
    void splicedLengthMatchesTheReferenceSequenceLength() {
        for (String fixture : TokenizerFixtures.REFERENCES) {
            JsonObject ref = TokenizerFixtures.reference(fixture);
            int resolution = ref.getAsJsonObject("spec").getAsJsonObject("vision").get("image_size").getAsInt();
            int tokensPerImage = (resolution / 64) * (resolution / 64);
            for (JsonElement c : ref.getAsJsonArray("cases")) {
                int[] ids = TokenizerFixtures.ints(c.getAsJsonObject().get("input_ids"));
                int expected = c.getAsJsonObject().get("sequence_length").getAsInt();
                List<HostTensor> images = PromptBuilder.countImages(ids) == 1
                        ? List.of(HostTensor.of(new float[tokensPerImage * 2], tokensPerImage, 2)) : List.of();
                int total = PromptBuilder.splice(ids, images).stream().mapToInt(PromptSegment::length).sum();
                assertEquals(expected, total, fixture);
                assertDoesNotThrow(() -> PromptBuilder.checkLength(ids, tokensPerImage, expected));
                PromptTooLongException e = assertThrows(PromptTooLongException.class,
                        () -> PromptBuilder.checkLength(ids, tokensPerImage, expected - 1));
                assertEquals(expected, e.splicedLength());
            }
        }
    }

    @Test
    void spliceKeepsOrderAndPutsEachImageWhereItsPlaceholderWas() {
        HostTensor first = HostTensor.of(new float[6], 3, 2);
        HostTensor second = HostTensor.of(new float[4], 2, 2);
        List<PromptSegment> segments = PromptBuilder.splice(new int[] {1, 5, -200, -200, 7, 8, 9}, List.of(first, second));
        assertEquals(4, segments.size());
        assertArrayEquals(new int[] {1, 5}, assertInstanceOf(PromptSegment.Tokens.class, segments.get(0)).ids());
        assertSame(first, assertInstanceOf(PromptSegment.Embeddings.class, segments.get(1)).embeddings());
        assertSame(second, assertInstanceOf(PromptSegment.Embeddings.class, segments.get(2)).embeddings());
        assertArrayEquals(new int[] {7, 8, 9}, assertInstanceOf(PromptSegment.Tokens.class, segments.get(3)).ids());
    }

    @Test
    void spliceRejectsAMismatchedImageCountOrShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptBuilder.splice(new int[] {1, -200}, List.of()));
        assertEquals("prompt has 1 image placeholders but 0 image embeddings were given", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> PromptBuilder.splice(new int[] {1, -200}, List.of(HostTensor.of(new float[4], 1, 2, 2))));
    }

    @Test
    void promptTooLongMessageGivesTheLengthsAndTheLimit() {
        int[] ids = new int[1500];
        ids[1] = PromptBuilder.IMAGE_TOKEN;
        PromptTooLongException e = assertThrows(PromptTooLongException.class,
                () -> PromptBuilder.checkLength(ids, 576, 2048));
        assertEquals("prompt too long: 2075 positions (1499 text tokens + 576 image tokens for 1 image) exceed the "
                + "limit of 2048 (tokenizer_model_max_length); shorten the text or send fewer images", e.getMessage());
        assertEquals(1499, e.textTokens());
        assertEquals(576, e.imageTokens());
        assertEquals(2048, e.limit());
        assertInstanceOf(IllegalArgumentException.class, e);
    }
}
