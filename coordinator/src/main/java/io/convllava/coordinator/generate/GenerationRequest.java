package io.convllava.coordinator.generate;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;

import java.util.List;

/**
 * One generation: a conversation (the last message is the user's open turn), its images in order of appearance,
 * and how to decode.
 */
public record GenerationRequest(List<ChatMessage> messages, List<ImageInput> images, ConversationTemplate template,
                                SamplingParams sampling, int maxNewTokens, List<String> stopStrings,
                                boolean returnPrefillLogits, boolean keepImageIntermediates) {

    public GenerationRequest {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a request needs at least one message");
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max_new_tokens must be >= 1, got " + maxNewTokens);
        }
        stopStrings = List.copyOf(stopStrings);
        images = List.copyOf(images);
    }
}
