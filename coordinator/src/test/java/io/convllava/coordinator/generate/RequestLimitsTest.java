package io.convllava.coordinator.generate;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.transport.MessageLimits;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The checks both paths share: what the in-process command and the coordinator accept, default and refuse. */
class RequestLimitsTest {
    private final RequestLimits limits = RequestLimits.forContext(2048);

    @Test
    void zeroMaxNewTokensMeansTheDefaultCappedByTheContext() {
        assertEquals(512, limits.check(request("hi", 0)).maxNewTokens());
        assertEquals(7, limits.check(request("hi", 7)).maxNewTokens());
        assertEquals(2048, limits.check(request("hi", 2048)).maxNewTokens());
        assertEquals(new RequestLimits(100, 100), RequestLimits.forContext(100));
    }

    @Test
    void maxNewTokensBeyondTheContextOrNegativeIsRefused() {
        String expected = "max_new_tokens must be between 1 and 2048 (the model's context; 0 = the default 512), got ";
        assertRefused(request("hi", 100_000_000), expected + "100000000");
        assertRefused(request("hi", -1), expected + "-1");
    }

    @Test
    void aBlankUserMessageIsRefusedByIndex() {
        assertRefused(request(" \n", 0), "messages[0].text is blank: write a question or an instruction");
        GenerationRequest blankAboutImage = new GenerationRequest(List.of(ChatMessage.user("", 1)),
                List.of(image(1)), ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, 0, List.of(), false, false);
        assertRefused(blankAboutImage, "messages[0].text is blank: ask a question about the image");
        GenerationRequest secondTurn = new GenerationRequest(List.of(ChatMessage.user("hi"),
                ChatMessage.assistant("hello"), ChatMessage.user("\t")), List.of(), ConversationTemplate.VICUNA_V1,
                SamplingParams.GREEDY, 0, List.of(), false, false);
        assertRefused(secondTurn, "messages[2].text is blank: write a question or an instruction");
    }

    @Test
    void anOversizeImageIsRefusedByItsPlaceInTheConversation() {
        GenerationRequest request = new GenerationRequest(List.of(ChatMessage.user("a", 1), ChatMessage.assistant("b"),
                ChatMessage.user("c", 2)), List.of(image(10), image(10), image(MessageLimits.MAX_IMAGE_BYTES + 1)),
                ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, 0, List.of(), false, false);
        assertRefused(request, "messages[2].images[1] is 33554433 bytes; images are limited to 33554432 bytes"
                + " (32 MiB): resize it or save it as JPEG");
    }

    @Test
    void textBeyondWhatTheContextCanHoldIsRefusedBeforeTokenizing() {
        assertEquals(1, limits.check(request("x".repeat(2048 * 32), 1)).maxNewTokens());
        assertRefused(request("x".repeat(10 << 20), 1), "the messages hold 10485760 characters of text, more than the"
                + " model's 2048-position context can take (at most 65536): send a shorter prompt");
    }

    @Test
    void moreImagesThanTheLimitAreRefused() {
        List<ImageInput> images = java.util.Collections.nCopies(RequestLimits.MAX_IMAGES + 1, image(10));
        GenerationRequest request = new GenerationRequest(List.of(ChatMessage.user("a", images.size())), images,
                ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, 0, List.of(), false, false);
        assertRefused(request, "the request has 17 images, at most 16 are accepted (and only as many as fit the"
                + " context)");
    }

    @Test
    void samplingValuesAreRefusedWhereTheyAreMade() {
        assertEquals("temperature must be a finite number >= 0 (0 = greedy), got NaN",
                assertThrows(IllegalArgumentException.class, () -> new SamplingParams(Float.NaN, 1f, 0, 0))
                        .getMessage());
        assertEquals("top_p must be in (0, 1] (1 = off), got 0.0",
                assertThrows(IllegalArgumentException.class, () -> new SamplingParams(0f, 0f, 0, 0)).getMessage());
        assertEquals("top_k must be >= 0 (0 disables it), got -1",
                assertThrows(IllegalArgumentException.class, () -> new SamplingParams(0f, 1f, -1, 0)).getMessage());
    }

    private void assertRefused(GenerationRequest request, String expected) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> limits.check(request)).getMessage());
    }

    private static GenerationRequest request(String text, int maxNewTokens) {
        return new GenerationRequest(List.of(ChatMessage.user(text)), List.of(), ConversationTemplate.VICUNA_V1,
                SamplingParams.GREEDY, maxNewTokens, List.of(), false, false);
    }

    private static ImageInput image(int bytes) {
        return ImageInput.ofBytes(new byte[bytes]);
    }
}
