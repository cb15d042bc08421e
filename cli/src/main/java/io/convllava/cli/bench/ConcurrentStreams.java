package io.convllava.cli.bench;

import io.convllava.proto.v1.GenerateRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Many Generate calls at once, each a request of its own on one channel, started together. A call that fails is
 * counted and described, not fatal: how many streams a cluster cannot serve is a result too.
 */
public final class ConcurrentStreams {
    private ConcurrentStreams() {
    }

    /**
     * What {@code streams} streams gave: the timings of the requests that completed, a line per failed one
     * ("CODE: description"). The statistics cover the completed requests; empty when none completed.
     */
    public record Result(int streams, List<StreamTiming> timings, List<String> failures, long startNanos,
                         long endNanos) {

        /** All tokens after each request's first, over the time from the earliest first token to the latest last. */
        public OptionalDouble aggregateDecodeTokensPerSecond() {
            if (timings.isEmpty()) {
                return OptionalDouble.empty();
            }
            long first = timings.stream().mapToLong(StreamTiming::firstTokenNanos).min().orElseThrow();
            long last = timings.stream().mapToLong(StreamTiming::lastTokenNanos).max().orElseThrow();
            int tokens = timings.stream().mapToInt(StreamTiming::decodeTokens).sum();
            return OptionalDouble.of(tokens / ((last - first) / 1e9));
        }

        /** Every token generated over the phase's wall time, from sending the first request to the last answer. */
        public double throughputTokensPerSecond() {
            return completionTokens() / wallSeconds();
        }

        public double wallSeconds() {
            return (endNanos - startNanos) / 1e9;
        }

        public int completionTokens() {
            return timings.stream().mapToInt(StreamTiming::tokens).sum();
        }

        public OptionalDouble medianStreamDecodeTokensPerSecond() {
            double[] speeds = timings.stream().mapToDouble(StreamTiming::decodeTokensPerSecond).toArray();
            return speeds.length == 0 ? OptionalDouble.empty() : OptionalDouble.of(Stats.median(speeds));
        }

        public OptionalDouble ttftMs(double percentile) {
            double[] ttfts = timings.stream().mapToDouble(StreamTiming::ttftMs).toArray();
            return ttfts.length == 0 ? OptionalDouble.empty() : OptionalDouble.of(Stats.percentile(ttfts, percentile));
        }
    }

    /**
     * Sends {@code request.apply(i)} for i in [0, streams) from a thread each, all released at the same moment,
     * and waits for every call to end.
     */
    public static Result run(Channel channel, int streams, IntFunction<GenerateRequest> request, Duration timeout)
            throws InterruptedException {
        return run(channel, streams, 1, request, timeout);
    }

    /**
     * As {@link #run(Channel, int, IntFunction, Duration)}, but each stream sends {@code rounds} requests one after
     * the other (round r of stream i: {@code request.apply(i)} with "-r" and r appended to its request id), so that
     * the phase measures the cluster serving that many users steadily rather than their prompts' ramp alone. A
     * stream whose call fails stops there.
     */
    public static Result run(Channel channel, int streams, int rounds, IntFunction<GenerateRequest> request,
                             Duration timeout) throws InterruptedException {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be at least 1, got " + rounds);
        }
        ExecutorService threads = Executors.newFixedThreadPool(streams, r -> {
            Thread t = new Thread(r, "bench-stream");
            t.setDaemon(true);
            return t;
        });
        try {
            CountDownLatch ready = new CountDownLatch(streams);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<StreamTiming>>> calls = new ArrayList<>();
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < streams; i++) {
                GenerateRequest r = request.apply(i);
                calls.add(threads.submit(() -> {
                    ready.countDown();
                    go.await();
                    List<StreamTiming> done = new ArrayList<>(rounds);
                    for (int round = 0; round < rounds; round++) {
                        GenerateRequest call = rounds == 1 ? r
                                : r.toBuilder().setRequestId(r.getRequestId() + "-r" + round).build();
                        try {
                            done.add(TimedCall.generate(channel, call, timeout));
                        } catch (RuntimeException e) {
                            failures.add(describe(e));
                            break;
                        }
                    }
                    return done;
                }));
            }
            ready.await();
            long start = System.nanoTime();
            go.countDown();
            List<StreamTiming> timings = new ArrayList<>();
            for (Future<List<StreamTiming>> call : calls) {
                try {
                    timings.addAll(call.get());
                } catch (ExecutionException e) {
                    failures.add(describe(e.getCause()));
                }
            }
            return new Result(streams, List.copyOf(timings), List.copyOf(failures), start, System.nanoTime());
        } finally {
            threads.shutdownNow();
        }
    }

    /** "DEADLINE_EXCEEDED: ..." for a failed call, the exception's class and message otherwise. */
    static String describe(Throwable failure) {
        Status status = Status.fromThrowable(failure);
        if (status.getCode() != Status.Code.UNKNOWN || failure instanceof StatusRuntimeException) {
            return status.getCode() + ": " + status.getDescription();
        }
        return failure.getClass().getSimpleName() + ": " + failure.getMessage();
    }
}
