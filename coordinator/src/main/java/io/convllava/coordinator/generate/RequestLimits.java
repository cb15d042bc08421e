package io.convllava.coordinator.generate;

import io.convllava.common.transport.MessageLimits;
import io.convllava.coordinator.text.ChatMessage;

import java.util.List;

/**
 * The defaults and limits every generation request is held to, in process ({@link Generator}) and in a cluster
 * (the coordinator's request reader) alike, so a request gets the same answer or the same refusal on both paths.
 * A refusal is an {@link IllegalArgumentException} naming the field at fault and saying what to send instead.
 * Sampling values are checked where they are made ({@link io.convllava.common.sampling.SamplingParams}).
 *
 * @param defaultMaxNewTokens what max_new_tokens 0 (unset) means
 * @param maxNewTokens        the largest max_new_tokens accepted: the decoder's context
 */
public record RequestLimits(int defaultMaxNewTokens, int maxNewTokens) {
    public static final int DEFAULT_MAX_NEW_TOKENS = 512;
    /**
     * Characters of text a request may carry per position of the context: no LLaMA token is longer than 16
     * characters, so a prompt over twice that cannot fit, and is refused before it is tokenized (a 10 MB prompt took
     * 19 s and a gigabyte to tokenize).
     */
    static final int CHARS_PER_POSITION = 32;
    /** Images one request may carry; at 1536 px (576 tokens each) seven already fill a 4096-position context. */
    public static final int MAX_IMAGES = 16;

    public RequestLimits {
        if (defaultMaxNewTokens < 1 || defaultMaxNewTokens > maxNewTokens) {
            throw new IllegalArgumentException("the default max_new_tokens must be between 1 and " + maxNewTokens
                    + ", got " + defaultMaxNewTokens);
        }
    }

    /** The limits for a decoder with this context ({@code max_position_embeddings}): 512 new tokens by default. */
    public static RequestLimits forContext(int contextLength) {
        return new RequestLimits(Math.min(DEFAULT_MAX_NEW_TOKENS, contextLength), contextLength);
    }

    /**
     * Checks the text and image count fit the context, every user message has text, every image fits {@link MessageLimits#MAX_IMAGE_BYTES} and max_new_tokens
     * is in range; returns the request with max_new_tokens 0 replaced by the default.
     */
    public GenerationRequest check(GenerationRequest request) {
        List<ChatMessage> messages = request.messages();
        long characters = messages.stream().mapToLong(m -> m.text().length()).sum();
        long maxCharacters = (long) maxNewTokens * CHARS_PER_POSITION;
        if (characters > maxCharacters) {
            throw new IllegalArgumentException("the messages hold " + characters + " characters of text, more than the"
                    + " model's " + maxNewTokens + "-position context can take (at most " + maxCharacters
                    + "): send a shorter prompt");
        }
        if (request.images().size() > MAX_IMAGES) {
            throw new IllegalArgumentException("the request has " + request.images().size() + " images, at most "
                    + MAX_IMAGES + " are accepted (and only as many as fit the context)");
        }
        int image = 0;
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m.role() == ChatMessage.Role.USER && m.text().isBlank()) {
                throw new IllegalArgumentException("messages[" + i + "].text is blank: "
                        + (m.images() > 0 ? "ask a question about the image" : "write a question or an instruction"));
            }
            for (int j = 0; j < m.images() && image < request.images().size(); j++, image++) {
                byte[] bytes = request.images().get(image).bytes();
                if (bytes != null) {
                    MessageLimits.checkImage("messages[" + i + "].images[" + j + "]", bytes.length);
                }
            }
        }
        return request.withMaxNewTokens(maxNewTokens(request.maxNewTokens()));
    }

    /** {@code requested}, or the default for 0. */
    public int maxNewTokens(int requested) {
        if (requested == 0) {
            return defaultMaxNewTokens;
        }
        if (requested < 1 || requested > maxNewTokens) {
            throw new IllegalArgumentException("max_new_tokens must be between 1 and " + maxNewTokens
                    + " (the model's context; 0 = the default " + defaultMaxNewTokens + "), got " + requested);
        }
        return requested;
    }
}
