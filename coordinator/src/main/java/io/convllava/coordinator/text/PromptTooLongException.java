package io.convllava.coordinator.text;

/**
 * The prompt, with each {@code <image>} replaced by its visual tokens, does not fit the model's context
 * ({@code tokenizer_model_max_length}). The coordinator answers it with INVALID_ARGUMENT.
 */
public class PromptTooLongException extends IllegalArgumentException {

    private final int splicedLength;
    private final int textTokens;
    private final int imageTokens;
    private final int limit;

    public PromptTooLongException(int splicedLength, int textTokens, int images, int imageTokens, int limit) {
        super("prompt too long: " + splicedLength + " positions (" + textTokens + " text tokens + " + imageTokens
                + " image tokens for " + images + (images == 1 ? " image" : " images") + ") exceed the limit of "
                + limit + " (tokenizer_model_max_length); shorten the text or send fewer images");
        this.splicedLength = splicedLength;
        this.textTokens = textTokens;
        this.imageTokens = imageTokens;
        this.limit = limit;
    }

    public int splicedLength() {
        return splicedLength;
    }

    public int textTokens() {
        return textTokens;
    }

    public int imageTokens() {
        return imageTokens;
    }

    public int limit() {
        return limit;
    }
}
