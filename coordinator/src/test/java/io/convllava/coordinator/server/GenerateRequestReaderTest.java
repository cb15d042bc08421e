package io.convllava.coordinator.server;

import com.google.protobuf.ByteString;
import io.convllava.coordinator.generate.GenerationRequest;
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
    private final GenerateRequestReader reader = new GenerateRequestReader("tiny", cache, 512, 4096);

    @Test
    void defaultsAreGreedyVicunaAndTheDefaultLength() {
        GenerationRequest r = reader.read(GenerateRequest.newBuilder().addMessages(user("hi")).build());
        assertEquals(ConversationTemplate.VICUNA_V1, r.template());
        assertTrue(r.sampling().greedy());
        assertEquals(512, r.maxNewTokens());
        assertEquals(1, r.messages().size());
    }

    @Test
    void inlineImagesCanLaterBeReferencedByHash() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        Message withBytes = user("what?").toBuilder().addImages(Image.newBuilder().setData(ByteString.copyFrom(png)))
                .build();
        assertEquals(1, reader.read(GenerateRequest.newBuilder().addMessages(withBytes).build()).images().size());

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
        assertInvalid(request().setSampling(SamplingOptions.newBuilder().setTemperature(-1)).build(), "temperature");
        assertInvalid(request().setSampling(SamplingOptions.newBuilder().setTopP(1.5f)).build(), "top_p");
        assertInvalid(request().setSampling(SamplingOptions.newBuilder().setTopK(-2)).build(), "top_k");
        assertInvalid(GenerateRequest.newBuilder().addMessages(Message.newBuilder().setText("x")).build(),
                "messages[0].role");
        assertInvalid(GenerateRequest.newBuilder().addMessages(user("x").toBuilder().addImages(Image.newBuilder()))
                .build(), "messages[0].images[0] has neither data nor sha256");
        assertInvalid(GenerateRequest.newBuilder().addMessages(user("x").toBuilder()
                .addImages(Image.newBuilder().setData(ByteString.EMPTY))).build(), "messages[0].images[0].data is empty");
        assertInvalid(GenerateRequest.newBuilder().addMessages(user("x").toBuilder()
                .addImages(Image.newBuilder().setSha256("abc"))).build(), "64 hex digits");
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
