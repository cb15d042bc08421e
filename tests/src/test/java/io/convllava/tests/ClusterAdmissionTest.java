package io.convllava.tests;

import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.server.CoordinatorServer;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.schedule.BatchLimits;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.SamplingOptions;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Admission follows the whole cluster, not one coordinator: with the only pipeline's node full (its 2 sessions taken
 * by streams of one coordinator), a request to another coordinator waits, instead of being sent on and refused by the
 * full node, and is answered once one of those streams ends.
 */
class ClusterAdmissionTest {
    private static final Reference TINY = new Reference("tiny-convllava");

    @Test
    void aSecondCoordinatorWaitsForRoomOnNodesAFirstOneFilled() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            ServedModel model = ServedModel.load("tiny-convllava", TestCluster.TINY);
            CoordinatorServer first = cluster.coordinator(model, c -> c.withPrefixReuse(false));
            CoordinatorServer second = cluster.coordinator(model, c -> c.withPrefixReuse(false));
            cluster.llm("0-4", BatchLimits.DEFAULTS.withMaxSessions(2));
            TestCluster.await(() -> !first.router().assembly().pipelines().isEmpty()
                    && !second.router().assembly().pipelines().isEmpty(), "both coordinators to see the pipeline");
            ManagedChannel a = Channels.forAddress(first.address(), TransportOptions.DEFAULTS);
            ManagedChannel b = Channels.forAddress(second.address(), TransportOptions.DEFAULTS);
            try {
                GenerateRequest longStory = story(3000, 1); // runs until the test cancels it
                GenerateRequest shortStory = story(30, 2);
                int[] reference = Streams.collect(stub(b).generate(shortStory)).tokens();

                Context.CancellableContext firstHold = Context.current().withCancellation();
                Context.CancellableContext secondHold = Context.current().withCancellation();
                CompletableFuture<Void> busy1 = CompletableFuture.runAsync(
                        () -> firstHold.run(() -> drain(stub(a).generate(longStory))));
                CompletableFuture<Void> busy2 = CompletableFuture.runAsync(
                        () -> secondHold.run(() -> drain(stub(a).generate(longStory))));
                // the node reports its two sessions (every second); the second coordinator then sees no room
                TestCluster.await(() -> !second.router().hasRoom(), "the second coordinator to see the node full");
                assertFalse(busy1.isDone() || busy2.isDone(), "the long streams hold the node's sessions");

                CompletableFuture<int[]> waiting = CompletableFuture.supplyAsync(
                        () -> Streams.collect(stub(b).generate(shortStory)).tokens());
                Thread.sleep(1500);
                assertFalse(waiting.isDone(), "the request waits for room instead of being refused by the node");
                firstHold.cancel(null); // one stream ends: its session is freed, and reported within a second
                assertArrayEquals(reference, waiting.get(60, TimeUnit.SECONDS), "answered once the node had room");
                secondHold.cancel(null);
                busy1.get(60, TimeUnit.SECONDS);
                busy2.get(60, TimeUnit.SECONDS);
            } finally {
                a.shutdownNow();
                b.shutdownNow();
            }
        }
    }

    /** Reads a stream to its end, or until its call is cancelled. */
    private static void drain(java.util.Iterator<io.convllava.proto.v1.GenerateResponse> stream) {
        try {
            while (stream.hasNext()) {
                stream.next();
            }
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.CANCELLED) {
                throw e;
            }
        }
    }

    /** Sampled at temperature 1 so that it runs its full length instead of stopping at an early EOS. */
    private static GenerateRequest story(int tokens, long seed) {
        return Streams.request(TINY.question(1), null, tokens, false).toBuilder()
                .setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(seed)).build();
    }

    private static ConvLlavaGrpc.ConvLlavaBlockingStub stub(ManagedChannel channel) {
        return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
    }
}
