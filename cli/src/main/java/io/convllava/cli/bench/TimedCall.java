package io.convllava.cli.bench;

import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.grpc.Channel;

import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

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
        Iterator<GenerateResponse> stream = ConvLlavaGrpc.newBlockingStub(channel)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .generate(request);
        Final last = null;
        while (stream.hasNext()) {
            GenerateResponse event = stream.next();
            if (event.hasDelta()) {
                clock.onTokens(event.getDelta().getTokenIdsCount());
            } else if (event.hasFinal()) {
                last = event.getFinal();
            }
        }
        if (last == null) {
            throw new IllegalStateException("the coordinator at " + channel.authority() + " ended the stream of "
                    + request.getRequestId() + " without a Final event");
        }
        if (last.getUsage().getCompletionTokens() != clock.tokens()) {
            throw new IllegalStateException(request.getRequestId() + ": the stream carried " + clock.tokens()
                    + " token ids but the Final event counts " + last.getUsage().getCompletionTokens());
        }
        return clock.finish(last.getUsage().getPromptTokens(), last.getTimings().getEncodeMs(),
                last.getTimings().getPrefillMs(), last.getText(),
                last.getFinishReason().name().toLowerCase(Locale.ROOT));
    }
}
