package io.convllava.cli.bench;

import java.util.List;

/**
 * Lone requests one after another: the medians of their time to first token, decode speed and the server's
 * encode and prefill times; the token counts of the last one.
 */
public record BatchOne(int runs, double ttftMs, double decodeTokensPerSecond, double encodeMs, double prefillMs,
                       int promptTokens, int completionTokens, String finishReason) {

    public static BatchOne of(List<StreamTiming> runs) {
        StreamTiming last = runs.get(runs.size() - 1);
        return new BatchOne(runs.size(),
                Stats.median(runs.stream().mapToDouble(StreamTiming::ttftMs).toArray()),
                Stats.median(runs.stream().mapToDouble(StreamTiming::decodeTokensPerSecond).toArray()),
                Stats.median(runs.stream().mapToDouble(StreamTiming::encodeMs).toArray()),
                Stats.median(runs.stream().mapToDouble(StreamTiming::prefillMs).toArray()),
                last.promptTokens(), last.tokens(), last.finishReason());
    }
}
