package io.convllava.cli.bench;

/**
 * How one generation went, as its caller saw it: when it was sent, when its first and last tokens arrived (all
 * {@link System#nanoTime()}), how many tokens came, and what the server reported.
 *
 * @param firstTokens tokens that came with the first one (1 when each token arrives on its own)
 * @param promptTokens sequence positions of the prompt, image tokens included
 * @param encodeMs the server's time to tokenize the prompt and encode its images
 * @param imageMs the images' part of it: decoding, preprocessing and encoding them, or finding them in a cache
 * @param prefillMs the server's time to run the prompt through the decoder
 * @param finishReason why generation stopped: stop (end of sequence), length or stop_string
 */
public record StreamTiming(long startNanos, long firstTokenNanos, long lastTokenNanos, int tokens, int firstTokens,
                           int promptTokens, double encodeMs, double imageMs, double prefillMs, String text,
                           String finishReason) {

    /** Time to first token: from sending the request to receiving its first token. */
    public double ttftMs() {
        return (firstTokenNanos - startNanos) / 1e6;
    }

    /** Tokens after the first ones: each one a decode step. */
    public int decodeTokens() {
        return tokens - firstTokens;
    }

    /** From the first token to the last. */
    public double decodeSeconds() {
        return (lastTokenNanos - firstTokenNanos) / 1e9;
    }

    /** Decode speed: the tokens after the first over the time from the first to the last. */
    public double decodeTokensPerSecond() {
        if (decodeTokens() < 1 || lastTokenNanos <= firstTokenNanos) {
            throw new IllegalStateException("a generation of " + tokens + " token(s) has no decode steps to time:"
                    + " raise --tokens, or ask a question with a longer answer (it ended by " + finishReason + ")");
        }
        return decodeTokens() / decodeSeconds();
    }
}
