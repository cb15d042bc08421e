package io.convllava.cli.bench;

import com.google.protobuf.ByteString;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;

import java.util.List;

/**
 * The requests of the serving bench: greedy, vicuna_v1, at most {@code maxTokens} new tokens; a question about an
 * image, the same question without it, a follow-up in the same conversation.
 */
public record BenchRequests(String question, byte[] image, String followUp, int maxTokens) {

    /** The same requests about another image. */
    public BenchRequests about(byte[] other) {
        return new BenchRequests(question, other, followUp, maxTokens);
    }

    /** The question about the image, for the in-process engine. */
    public GenerationRequest inProcess() {
        return new GenerationRequest(List.of(ChatMessage.user(question, 1)), List.of(ImageInput.ofBytes(image)),
                ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, maxTokens, List.of(), false, false);
    }

    /** The question about the image, for a cluster. */
    public GenerateRequest withImage(String requestId) {
        return withImage(requestId, image, maxTokens);
    }

    /** The question about another image, at most {@code tokens} new tokens. */
    public GenerateRequest withImage(String requestId, byte[] other, int tokens) {
        return GenerateRequest.newBuilder().setRequestId(requestId).setMaxNewTokens(tokens)
                .addMessages(user(question).addImages(Image.newBuilder().setData(ByteString.copyFrom(other))))
                .build();
    }

    /** The question alone: the vision nodes are not involved. */
    public GenerateRequest textOnly(String requestId) {
        return GenerateRequest.newBuilder().setRequestId(requestId).setMaxNewTokens(maxTokens)
                .addMessages(user(question)).build();
    }

    /** The second turn: the question about the image, the model's {@code answer}, then the follow-up question. */
    public GenerateRequest secondTurn(String requestId, String answer) {
        return withImage(requestId).toBuilder()
                .addMessages(Message.newBuilder().setRole(Message.Role.ASSISTANT).setText(answer))
                .addMessages(user(followUp))
                .build();
    }

    private static Message.Builder user(String text) {
        return Message.newBuilder().setRole(Message.Role.USER).setText(text);
    }
}
