package io.convllava.coordinator.server;

import com.google.protobuf.ByteString;
import io.convllava.common.transport.MessageLimits;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.RequestLimits;
import io.convllava.coordinator.text.ConversationTemplate;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import io.convllava.proto.v1.SamplingOptions;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerateRequestReaderTest {
    private final ImageCache cache = new ImageCache(1 << 20);
    private final GenerateRequestReader reader = new GenerateRequestReader("tiny", cache, RequestLimits.forContext(4096));

    @Test
    void defaultsAreGreedyVicunaAndTheDefaultLength() {
        GenerationRequest r = reader.read(GenerateRequest.newBuilder().addMessages(user("hi")).build());
        assertEquals(ConversationTemplate.VICUNA_V1, r.template());
        assertTrue(r.sampling().greedy());
        assertEquals(512, r.maxNewTokens());
        assertEquals(1, r.messages().size());
    }

    @Test
    void theImagesOfAnAnsweredRequestCanLaterBeReferencedByHash() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        Message withBytes = user("what?").toBuilder().addImages(Image.newBuilder().setData(ByteString.copyFrom(png)))
                .build();
        GenerationRequest first = reader.read(GenerateRequest.newBuilder().addMessages(withBytes).build());
        assertEquals(1, first.images().size());
        assertEquals(0, cache.size(), "nothing is kept before the request was answered");
        reader.remember(first);

        Message byHash = user("again?").toBuilder().addImages(Image.newBuilder().setSha256(ImageCache.sha256(png)))
                .build();
        GenerationRequest r = reader.read(GenerateRequest.newBuilder().addMessages(byHash).build());
        assertArrayEquals(png, r.images().get(0).bytes());
        assertEquals(1, r.messages().get(0).images());
    }

    @Test
    void rejectsWithMessagesNamingTheField() {
        assertInvalid(GenerateRequest.newBuilder().build(), "messages");
        assertInvalid(request().setTemplate("chatml").build(), "template 'chatml' is unknown");
        assertInvalid(request().setMaxNewTokens(-1).build(), "max_new_tokens must be between 1 and 4096");
        assertInvalid(request().setMaxNewTokens(5000).build(), "max_new_tokens");
        assertInvalid(request().setMaxNewTokens(100_000_000).build(), "max_new_tokens must be between 1 and 4096");
        assertInvalid(request().setSampling(SamplingOptions.newBuilder().setTemperature(-1)).build(),
                "sampling.temperature");
        assertInvalid(request().setSampling(SamplingOptions.newBuilder().setTemperature(Float.NaN)).build(),
                "sampling.temperature");
        assertInvalid(request().setSampling(SamplingOptions.newBuilder().setTopP(1.5f)).build(), "sampling.top_p");
        assertInvalid(request().setSampling(SamplingOptions.newBuilder().setTopK(-2)).build(), "sampling.top_k");
        assertInvalid(GenerateRequest.newBuilder().addMessages(user(" \n\t")).build(),
                "messages[0].text is blank: write a question or an instruction");
        assertInvalid(GenerateRequest.newBuilder().addMessages(Message.newBuilder().setText("x")).build(),
                "messages[0].role");
        assertInvalid(GenerateRequest.newBuilder().addMessages(Message.newBuilder().setRole(Message.Role.SYSTEM)
                .setText("x").addImages(Image.newBuilder().setData(ByteString.copyFromUtf8("png")))).build(),
                "messages[0]: only user messages can carry images, got 1 on SYSTEM");
        assertInvalid(GenerateRequest.newBuilder().addMessages(user("x").toBuilder().addImages(Image.newBuilder()))
                .build(), "messages[0].images[0] has neither data nor sha256");
        assertInvalid(GenerateRequest.newBuilder().addMessages(user("x").toBuilder()
                .addImages(Image.newBuilder().setData(ByteString.EMPTY))).build(), "messages[0].images[0].data is empty");
        assertInvalid(GenerateRequest.newBuilder().addMessages(user("x").toBuilder()
                .addImages(Image.newBuilder().setSha256("abc"))).build(), "64 hex digits");
    }

    @Test
    void anOversizeImageIsRefusedByNameBeforeItIsCached() {
        ImageCache roomy = new ImageCache(1L << 30);
        GenerateRequestReader reader = new GenerateRequestReader("tiny", roomy, RequestLimits.forContext(4096));
        GenerateRequest request = GenerateRequest.newBuilder().addMessages(user("what?").toBuilder()
                .addImages(Image.newBuilder().setData(ByteString.copyFrom(new byte[MessageLimits.MAX_IMAGE_BYTES + 1]))))
                .build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> reader.read(request));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("messages[0].images[0] is 33554433 bytes; images are limited to 33554432 bytes (32 MiB):"
                + " resize it or save it as JPEG", e.getStatus().getDescription());
        assertEquals(0, roomy.size());
    }

    @Test
    void aBlankQuestionAboutAnImageIsRefused() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        assertInvalid(GenerateRequest.newBuilder().addMessages(user("").toBuilder()
                        .addImages(Image.newBuilder().setData(ByteString.copyFrom(png)))).build(),
                "messages[0].text is blank: ask a question about the image");
    }

    @Test
    void unknownHashOrModelIsNotFound() {
        String missing = ImageCache.sha256(new byte[] {42});
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> reader.read(
                GenerateRequest.newBuilder().addMessages(user("x").toBuilder()
                        .addImages(Image.newBuilder().setSha256(missing))).build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("send the image bytes"));

        e = assertThrows(StatusRuntimeException.class, () -> reader.read(request().setModel("other").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }

    private void assertInvalid(GenerateRequest request, String expected) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> reader.read(request));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains(expected),
                "'" + e.getStatus().getDescription() + "' should mention '" + expected + "'");
    }

    private static GenerateRequest.Builder request() {
        return GenerateRequest.newBuilder().addMessages(user("hello"));
    }

    private static Message user(String text) {
        return Message.newBuilder().setRole(Message.Role.USER).setText(text).build();
    }
}
