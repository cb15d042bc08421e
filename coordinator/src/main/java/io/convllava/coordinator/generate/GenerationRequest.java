package io.convllava.coordinator.generate;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;

import java.util.List;

/**
 * One generation: a conversation (the last message is the user's open turn), its images in order of appearance,
 * and how to decode. {@link RequestLimits} holds it to the model's limits.
 *
 * @param maxNewTokens 0 = the default ({@link RequestLimits#DEFAULT_MAX_NEW_TOKENS})
 */
public record GenerationRequest(List<ChatMessage> messages, List<ImageInput> images, ConversationTemplate template,
                                SamplingParams sampling, int maxNewTokens, List<String> stopStrings,
                                boolean returnPrefillLogits, boolean keepImageIntermediates) {

    public GenerationRequest {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("messages is empty: send at least one message (the user's question)");
        }
        stopStrings = List.copyOf(stopStrings);
        images = List.copyOf(images);
    }

    public GenerationRequest withMaxNewTokens(int tokens) {
        return tokens == maxNewTokens ? this : new GenerationRequest(messages, images, template, sampling, tokens,
                stopStrings, returnPrefillLogits, keepImageIntermediates);
    }
}
