package io.convllava.cli.bench;

/**
 * Notes when a generation's tokens arrive; one per generation, used by one thread at a time: the one that receives
 * its tokens, then the one that reads the timing once the call ended.
 */
final class TokenClock {
    private final long startNanos = System.nanoTime();
    private long firstNanos;
    private long lastNanos;
    private int tokens;
    private int firstTokens;

    /** {@code count} tokens arrived now (a streamed delta may carry none, one or several). */
    void onTokens(int count) {
        if (count == 0) {
            return;
        }
        long now = System.nanoTime();
        if (tokens == 0) {
            firstNanos = now;
            firstTokens = count;
        }
        lastNanos = now;
        tokens += count;
    }

    int tokens() {
        return tokens;
    }

    /** The timing of the finished generation, with what the server reported about it. */
    StreamTiming finish(int promptTokens, double encodeMs, double imageMs, double prefillMs, String text,
                        String finishReason) {
        if (tokens == 0) {
            throw new IllegalStateException("the generation ended (" + finishReason + ") without a token");
        }
        return new StreamTiming(startNanos, firstNanos, lastNanos, tokens, firstTokens, promptTokens, encodeMs,
                imageMs, prefillMs, text, finishReason);
    }
}
