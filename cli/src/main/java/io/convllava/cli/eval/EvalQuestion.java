package io.convllava.cli.eval;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;

import java.util.List;

/**
 * One request of a benchmark run: the prompt (the benchmark's question in its reference wording) about one image.
 *
 * @param id unique within the benchmark; the key of the predictions file
 */
public record EvalQuestion(String id, EvalImage image, String prompt) {

    /** The question asked about {@code image} (its file's bytes) as one greedy user turn, as the reference does. */
    GenerationRequest request(byte[] image, ConversationTemplate template, int maxNewTokens) {
        return new GenerationRequest(List.of(ChatMessage.user(prompt, 1)), List.of(ImageInput.ofBytes(image)),
                template, SamplingParams.GREEDY, maxNewTokens, List.of(), false, false);
    }
}
