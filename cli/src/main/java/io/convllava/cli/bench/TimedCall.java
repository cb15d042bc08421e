package io.convllava.cli.bench;

import io.convllava.cli.RemoteGenerate;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One call of the public {@code Generate} API, timed by the caller as its tokens stream back. The streamed messages
 * are handled where they arrive (they only note the time): a bench of many streams on a small machine would
 * otherwise wake a waiting thread per token, and that CPU is taken from the cluster it measures.
 * {@link RemoteGenerate#stream} keeps its callbacks on the caller's thread instead: the failover bench's may block.
 */
public final class TimedCall {
    private TimedCall() {
    }

    /**
     * Sends {@code request} with a deadline of {@code timeout} and times it; a failed call throws its
     * {@link io.grpc.StatusRuntimeException}.
     */
    public static StreamTiming generate(Channel channel, GenerateRequest request, Duration timeout) {
        TokenClock clock = new TokenClock();
        CompletableFuture<Final> done = new CompletableFuture<>();
        Observer observer = new Observer(clock, done, channel.authority(), request.getRequestId());
        ConvLlavaGrpc.newStub(channel).withExecutor(Runnable::run)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .generate(request, observer);
        Final last;
        try {
            last = done.get();
        } catch (InterruptedException e) {
            observer.call.cancel("the bench was interrupted", e);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + request.getRequestId(), e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException failure ? failure : new IllegalStateException(e.getCause());
        }
        if (last.getUsage().getCompletionTokens() != clock.tokens()) {
            throw new IllegalStateException(request.getRequestId() + ": the stream carried " + clock.tokens()
                    + " token ids but the Final event counts " + last.getUsage().getCompletionTokens());
        }
        return clock.finish(last.getUsage().getPromptTokens(), last.getTimings().getEncodeMs(),
                last.getTimings().getImageMs(), last.getTimings().getPrefillMs(), last.getText(),
                last.getFinishReason().name().toLowerCase(Locale.ROOT));
    }

    /** Notes the tokens of each delta on the transport thread; completes with the Final event. */
    private static final class Observer implements ClientResponseObserver<GenerateRequest, GenerateResponse> {
        private final TokenClock clock;
        private final CompletableFuture<Final> done;
        private final String target;
        private final String requestId;
        private ClientCallStreamObserver<GenerateRequest> call;
        private Final last;

        Observer(TokenClock clock, CompletableFuture<Final> done, String target, String requestId) {
            this.clock = clock;
            this.done = done;
            this.target = target;
            this.requestId = requestId;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
            call = requestStream;
        }

        @Override
        public void onNext(GenerateResponse event) {
            if (event.hasDelta()) {
                clock.onTokens(event.getDelta().getTokenIdsCount());
            } else if (event.hasFinal()) {
                last = event.getFinal();
            }
        }

        @Override
        public void onError(Throwable failure) {
            done.completeExceptionally(failure);
        }

        @Override
        public void onCompleted() {
            if (last == null) {
                done.completeExceptionally(RemoteGenerate.missingFinal(target, requestId));
            } else {
                done.complete(last);
            }
        }
    }
}
