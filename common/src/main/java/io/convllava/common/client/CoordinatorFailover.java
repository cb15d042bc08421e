package io.convllava.common.client;

import io.convllava.common.transport.PeerLoss;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.Delta;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A Generate call that survives the death of its coordinator: the request goes to the first of several coordinators
 * of one cluster; when that call is lost (UNAVAILABLE, the connection closed) or refused as full
 * (RESOURCE_EXHAUSTED) before its Final event, the same request goes to the next one. An answer depends only on the
 * request and its seed (a sampled request without one is given one here), so the new stream repeats what was
 * already delivered: those tokens are checked and skipped, and the caller sees one stream, with a delay.
 */
public final class CoordinatorFailover {
    private final List<Channel> coordinators;
    private final Duration timeout;
    private final Consumer<String> onRetry;

    /**
     * @param coordinators tried in this order
     * @param timeout      the deadline of the whole call, retries included
     * @param onRetry      told why each retry happens (say, to log it)
     */
    public CoordinatorFailover(List<Channel> coordinators, Duration timeout, Consumer<String> onRetry) {
        if (coordinators.isEmpty()) {
            throw new IllegalArgumentException("no coordinator to send the request to");
        }
        this.coordinators = List.copyOf(coordinators);
        this.timeout = timeout;
        this.onRetry = onRetry;
    }

    /** Streams the answer to {@code onDelta} and returns the Final event. */
    public Final generate(GenerateRequest request, Consumer<Delta> onDelta) {
        GenerateRequest pinned = withSeed(request);
        long deadline = System.nanoTime() + timeout.toNanos();
        Delivered delivered = new Delivered(onDelta);
        StatusRuntimeException lastFailure = null;
        for (int i = 0; i < coordinators.size(); i++) {
            Channel coordinator = coordinators.get(i);
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                return stream(coordinator, pinned, left, delivered.replay());
            } catch (StatusRuntimeException e) {
                if (!retryable(e.getStatus()) || i == coordinators.size() - 1) {
                    throw e;
                }
                lastFailure = e;
                onRetry.accept("the coordinator at " + coordinator.authority() + " failed (" + e.getStatus().getCode()
                        + ": " + e.getStatus().getDescription() + ") after " + delivered.tokens.size()
                        + " token(s)");
            }
        }
        throw lastFailure != null ? lastFailure : Status.DEADLINE_EXCEEDED
                .withDescription("no coordinator answered within " + timeout.toMillis() + " ms").asRuntimeException();
    }

    /** Failures another coordinator may not have: this one is gone, unreachable or full. */
    static boolean retryable(Status status) {
        return PeerLoss.is(status) || status.getCode() == Status.Code.RESOURCE_EXHAUSTED;
    }

    /** A sampled request without a seed gets one, so that a retry draws the same tokens. */
    static GenerateRequest withSeed(GenerateRequest request) {
        if (request.getSampling().hasSeed() || request.getSampling().getTemperature() <= 0) {
            return request;
        }
        return request.toBuilder().setSampling(request.getSampling().toBuilder()
                .setSeed(ThreadLocalRandom.current().nextLong() >>> 1)).build();
    }

    /** One attempt; the call is cancelled however it ends, so that an abandoned stream stops on the coordinator. */
    private static Final stream(Channel channel, GenerateRequest request, long timeoutNanos, Consumer<Delta> onDelta) {
        Context.CancellableContext attempt = Context.current().withCancellation();
        Context previous = attempt.attach();
        try {
            Iterator<GenerateResponse> stream = ConvLlavaGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS)
                    .generate(request);
            while (stream.hasNext()) {
                GenerateResponse event = stream.next();
                if (event.hasDelta()) {
                    onDelta.accept(event.getDelta());
                } else if (event.hasFinal()) {
                    return event.getFinal();
                }
            }
            throw Status.INTERNAL.withDescription("the coordinator at " + channel.authority()
                    + " ended the stream without a Final event").asRuntimeException();
        } finally {
            attempt.detach(previous);
            attempt.cancel(null);
        }
    }

    /** What the caller has been given so far; each attempt's stream is compared with it and only the rest passed on. */
    private static final class Delivered {
        final Consumer<Delta> onDelta;
        final StringBuilder text = new StringBuilder();
        final List<Integer> tokens = new ArrayList<>();

        Delivered(Consumer<Delta> onDelta) {
            this.onDelta = onDelta;
        }

        /** A consumer for one attempt's deltas. */
        Consumer<Delta> replay() {
            StringBuilder seenText = new StringBuilder();
            List<Integer> seenTokens = new ArrayList<>();
            return delta -> {
                seenText.append(delta.getText());
                seenTokens.addAll(delta.getTokenIdsList());
                int overlap = Math.min(seenTokens.size(), tokens.size());
                int textOverlap = Math.min(seenText.length(), text.length());
                if (!seenTokens.subList(0, overlap).equals(tokens.subList(0, overlap))
                        || !seenText.substring(0, textOverlap).equals(text.substring(0, textOverlap))) {
                    throw Status.DATA_LOSS.withDescription("the retried request answered differently from the first"
                            + " attempt after " + tokens.size() + " token(s): the coordinators serve different models"
                            + " or settings").asRuntimeException();
                }
                Delta.Builder rest = Delta.newBuilder();
                if (seenTokens.size() > tokens.size()) {
                    List<Integer> more = List.copyOf(seenTokens.subList(tokens.size(), seenTokens.size()));
                    rest.addAllTokenIds(more);
                    tokens.addAll(more);
                }
                if (seenText.length() > text.length()) {
                    String more = seenText.substring(text.length());
                    rest.setText(more);
                    text.append(more);
                }
                if (rest.getTokenIdsCount() > 0 || !rest.getText().isEmpty()) {
                    onDelta.accept(rest.build());
                }
            };
        }
    }
}
