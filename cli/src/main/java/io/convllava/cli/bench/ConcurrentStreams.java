package io.convllava.cli.bench;

import io.convllava.proto.v1.GenerateRequest;
import io.grpc.Channel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/** Many Generate calls at once, each a request of its own on one channel, started together. */
public final class ConcurrentStreams {
    private ConcurrentStreams() {
    }

    /** What {@code streams} calls made at once gave. */
    public record Result(int streams, List<StreamTiming> timings, long startNanos, long endNanos) {

        /** All tokens after each stream's first, over the time from the earliest first token to the latest last one. */
        public double aggregateDecodeTokensPerSecond() {
            long first = timings.stream().mapToLong(StreamTiming::firstTokenNanos).min().orElseThrow();
            long last = timings.stream().mapToLong(StreamTiming::lastTokenNanos).max().orElseThrow();
            return timings.stream().mapToInt(StreamTiming::decodeTokens).sum() / ((last - first) / 1e9);
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

        public double medianStreamDecodeTokensPerSecond() {
            return Stats.median(timings.stream().mapToDouble(StreamTiming::decodeTokensPerSecond).toArray());
        }

        public double ttftMs(double percentile) {
            return Stats.percentile(timings.stream().mapToDouble(StreamTiming::ttftMs).toArray(), percentile);
        }
    }

    /**
     * Sends {@code request.apply(i)} for i in [0, streams) from a thread each, all released at the same moment,
     * and waits for every answer; the first failure is rethrown once every call has ended.
     */
    public static Result run(Channel channel, int streams, IntFunction<GenerateRequest> request, Duration timeout)
            throws InterruptedException {
        ExecutorService threads = Executors.newFixedThreadPool(streams, r -> {
            Thread t = new Thread(r, "bench-stream");
            t.setDaemon(true);
            return t;
        });
        try {
            CountDownLatch ready = new CountDownLatch(streams);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<StreamTiming>> calls = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                GenerateRequest r = request.apply(i);
                calls.add(threads.submit(() -> {
                    ready.countDown();
                    go.await();
                    return TimedCall.generate(channel, r, timeout);
                }));
            }
            ready.await();
            long start = System.nanoTime();
            go.countDown();
            List<StreamTiming> timings = new ArrayList<>();
            RuntimeException failure = null;
            for (Future<StreamTiming> call : calls) {
                try {
                    timings.add(call.get());
                } catch (ExecutionException e) {
                    if (failure == null) {
                        failure = e.getCause() instanceof RuntimeException re ? re
                                : new IllegalStateException(e.getCause());
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
            return new Result(streams, List.copyOf(timings), start, System.nanoTime());
        } finally {
            threads.shutdownNow();
        }
    }
}
