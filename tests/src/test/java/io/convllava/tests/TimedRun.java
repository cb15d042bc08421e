package io.convllava.tests;

import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.convllava.proto.v1.SamplingOptions;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * The tokens of a Generate stream and when each arrived (nanoseconds after the call), for the process tests that
 * compare a stream disturbed by a fault with an uninterrupted one, token by token.
 */
record TimedRun(int[] tokens, List<Long> arrivals) {

    /**
     * A request sampled at temperature 1 with {@code seed}, so that it runs its full length instead of stopping at an
     * early EOS while giving the same tokens on every run; tests ask their own question each, so that none continues
     * from a cache another one kept.
     */
    static GenerateRequest story(String question, byte[] image, int maxNewTokens, long seed) {
        return Streams.request(question, image, maxNewTokens, false).toBuilder()
                .setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(seed)).build();
    }

    /** Runs {@code request} to its end; {@code afterToken} is told the count after each token. */
    static TimedRun of(ConvLlavaGrpc.ConvLlavaBlockingStub client, GenerateRequest request, IntConsumer afterToken) {
        long start = System.nanoTime();
        List<Integer> tokens = new ArrayList<>();
        List<Long> arrivals = new ArrayList<>();
        Iterator<GenerateResponse> stream = client.withDeadlineAfter(3, TimeUnit.MINUTES).generate(request);
        while (stream.hasNext()) {
            GenerateResponse event = stream.next();
            for (int t : event.getDelta().getTokenIdsList()) {
                tokens.add(t);
                arrivals.add(System.nanoTime() - start);
                afterToken.accept(tokens.size());
            }
        }
        return new TimedRun(tokens.stream().mapToInt(Integer::intValue).toArray(), arrivals);
    }

    static TimedRun of(ConvLlavaGrpc.ConvLlavaBlockingStub client, GenerateRequest request) {
        return of(client, request, k -> { });
    }

    double firstTokenMs() {
        return arrivals.isEmpty() ? 0 : arrivals.get(0) / 1e6;
    }

    double lastTokenMs() {
        return arrivals.isEmpty() ? 0 : arrivals.get(arrivals.size() - 1) / 1e6;
    }

    double longestGapMs() {
        long longest = 0;
        for (int i = 1; i < arrivals.size(); i++) {
            longest = Math.max(longest, arrivals.get(i) - arrivals.get(i - 1));
        }
        return longest / 1e6;
    }
}
