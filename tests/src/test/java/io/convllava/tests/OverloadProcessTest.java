package io.convllava.tests;

import io.convllava.cli.LocalCluster;
import io.convllava.cli.bench.ResidentMemory;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.server.AdmissionControl;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GenerateRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * More clients than the cluster takes, for a bounded time, every node in its own process: nothing crashes, every
 * answer is right, every refusal is RESOURCE_EXHAUSTED with a retry hint, and no node's memory runs away.
 */
class OverloadProcessTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final int CLIENTS = 24;
    private static final Duration LOAD = Duration.ofSeconds(20);
    /** A node's resident memory may grow by this much under the load (its heap is capped at 384 MB). */
    private static final long MAX_GROWTH_BYTES = 256L << 20;

    @Test
    void moreClientsThanCapacityGetRightAnswersOrResourceExhausted(@TempDir Path logs) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (LocalCluster cluster = new LocalCluster(new LocalCluster.Spec(Fixtures.tinyModel().toString(), null,
                null, "cpu", 0, List.of("0-2", "2-4"), 0, logs, "-Xmx384m",
                List.of("--max-concurrent", "4", "--max-queued", "4")),
                new PrintStream(log, true, StandardCharsets.UTF_8))) {
            String endpoint = cluster.start(Duration.ofMinutes(3));
            ManagedChannel channel = Channels.forAddress(endpoint, TransportOptions.DEFAULTS);
            try {
                ConvLlavaGrpc.ConvLlavaBlockingStub client = ConvLlavaGrpc.newBlockingStub(channel);
                GenerateRequest request = Streams.request(TINY.question(1), null, 12, false);
                TINY.assertGreedyPrefix(1, Streams.collect(client.generate(request)).tokens()); // warm, and right
                Map<String, ResidentMemory> before = ResidentMemory.of(cluster.pids());

                AtomicInteger answered = new AtomicInteger();
                AtomicInteger refused = new AtomicInteger();
                ConcurrentLinkedQueue<Throwable> wrong = new ConcurrentLinkedQueue<>();
                long end = System.nanoTime() + LOAD.toNanos();
                List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    Thread t = new Thread(() -> {
                        while (System.nanoTime() < end) {
                            try {
                                int[] tokens = Streams.collect(client.withDeadlineAfter(60, TimeUnit.SECONDS)
                                        .generate(request)).tokens();
                                TINY.assertGreedyPrefix(1, tokens);
                                answered.incrementAndGet();
                            } catch (StatusRuntimeException e) {
                                if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED
                                        || e.getTrailers() == null
                                        || e.getTrailers().get(AdmissionControl.RETRY_AFTER_MS) == null) {
                                    wrong.add(e);
                                }
                                refused.incrementAndGet();
                            } catch (Throwable e) {
                                wrong.add(e);
                            }
                        }
                    });
                    t.start();
                    clients.add(t);
                }
                for (Thread t : clients) {
                    t.join();
                }
                assertTrue(wrong.isEmpty(), wrong.size() + " wrong outcomes, first: " + wrong.peek());
                assertTrue(answered.get() > 0 && refused.get() > 0,
                        "the load exceeds capacity: " + answered + " answered, " + refused + " refused");
                Map<String, ResidentMemory> after = ResidentMemory.of(cluster.pids());
                for (Map.Entry<String, ResidentMemory> e : after.entrySet()) {
                    ResidentMemory was = before.get(e.getKey());
                    assertNotNull(was, e.getKey());
                    assertTrue(e.getValue().rssBytes() - was.rssBytes() < MAX_GROWTH_BYTES, e.getKey()
                            + " grew from " + was.rssBytes() + " to " + e.getValue().rssBytes() + " bytes");
                }
                System.out.printf("overload: %d clients for %d s: %d answered, %d refused (RESOURCE_EXHAUSTED)%n",
                        CLIENTS, LOAD.toSeconds(), answered.get(), refused.get());
                TINY.assertGreedyPrefix(1, Streams.collect(client.generate(request)).tokens()); // still serving
            } finally {
                channel.shutdownNow();
            }
        }
        assertEquals(0, log.toString(StandardCharsets.UTF_8).split("exited unexpectedly", -1).length - 1,
                "no node crashed:\n" + log);
    }
}
