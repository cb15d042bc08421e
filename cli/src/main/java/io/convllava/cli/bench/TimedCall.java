package io.convllava.cli.bench;

import io.convllava.cli.RemoteGenerate;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.grpc.Channel;

import java.time.Duration;
import java.util.Locale;

/** One call of the public {@code Generate} API, timed by the caller as its tokens stream back. */
public final class TimedCall {
    private TimedCall() {
    }

    /**
     * Sends {@code request} with a deadline of {@code timeout} and times it; a failed call throws its
     * {@link io.grpc.StatusRuntimeException}.
     */
    public static StreamTiming generate(Channel channel, GenerateRequest request, Duration timeout) {
        TokenClock clock = new TokenClock();
        Final last = RemoteGenerate.stream(channel, request, timeout,
                delta -> clock.onTokens(delta.getTokenIdsCount()));
        if (last.getUsage().getCompletionTokens() != clock.tokens()) {
            throw new IllegalStateException(request.getRequestId() + ": the stream carried " + clock.tokens()
                    + " token ids but the Final event counts " + last.getUsage().getCompletionTokens());
        }
        return clock.finish(last.getUsage().getPromptTokens(), last.getTimings().getEncodeMs(),
                last.getTimings().getPrefillMs(), last.getText(),
                last.getFinishReason().name().toLowerCase(Locale.ROOT));
    }
}
