package io.convllava.common.client;

import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ForwardBatchRequest;
import io.convllava.proto.v1.ForwardBatchResponse;
import io.convllava.proto.v1.ForwardRequest;
import io.convllava.proto.v1.ForwardResponse;
import io.convllava.proto.v1.ForwardResult;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.StageAddress;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How decode steps of many sessions gather into ForwardBatch calls, against a first stage over real Netty on loopback
 * that answers each step with its step number plus one after {@value #STEP_MILLIS} ms.
 */
class DecodeStepBatcherTest {
    private static final int STEP_MILLIS = 40;

    private final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger mostInFlight = new AtomicInteger();
    /** Counted down by every call as it arrives; a call waits for it (at most a second) before it answers. */
    private volatile CountDownLatch arrivals = new CountDownLatch(0);
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws IOException {
        LlmNodeGrpc.LlmNodeImplBase stage = new LlmNodeGrpc.LlmNodeImplBase() {
            @Override
            public void forwardBatch(ForwardBatchRequest request, StreamObserver<ForwardBatchResponse> response) {
                mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                batchSizes.add(request.getItemsCount());
                try {
                    CountDownLatch latch = arrivals;
                    latch.countDown();
                    latch.await(1, TimeUnit.SECONDS);
                    Thread.sleep(STEP_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ForwardBatchResponse.Builder answer = ForwardBatchResponse.newBuilder();
                for (ForwardRequest item : request.getItemsList()) {
                    answer.addResults(item.getSessionId().startsWith("bad") ? ForwardResult.newBuilder()
                            .setStatusCode(Status.Code.FAILED_PRECONDITION.value()).setStatusMessage("unknown session")
                            : ForwardResult.newBuilder().setStatusCode(Status.Code.OK.value())
                                    .setResponse(ForwardResponse.newBuilder().setToken(item.getStep() + 1)));
                }
                inFlight.decrementAndGet();
                response.onNext(answer.build());
                response.onCompleted();
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(stage)
                .executor(Executors.newCachedThreadPool()).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    @Test
    void theSessionsOfABatchTravelTogetherOneBatchAtATime() throws Exception {
        DecodeStepBatcher batcher = new DecodeStepBatcher(channel, TransportOptions.DEFAULTS, 1);
        int sessions = 8;
        int steps = 20;
        runSessions(batcher, sessions, steps, 0);
        assertEquals(1, mostInFlight.get(), "one batch in flight at a time");
        assertEquals(sessions * steps, batcher.steps());
        // the first session's first step may leave alone; from then on every batch waits for all eight (a batch that
        // left as soon as it could, without them, made 29 calls of 1-8 steps in one run)
        assertTrue(batcher.calls() <= steps + 3, batcher.calls() + " calls for " + steps + " steps of "
                + sessions + " sessions: " + batchSizes);
    }

    @Test
    void aSessionThatLeavesIsNotWaitedFor() throws Exception {
        DecodeStepBatcher batcher = new DecodeStepBatcher(channel, TransportOptions.DEFAULTS, 1);
        together(() -> {
            step(batcher, "brief", 0);
            step(batcher, "brief", 1);
            batcher.leave("brief");
        }, () -> steps(batcher, "longer", 10));
        assertEquals(0, batcher.holdsExpired());
    }

    @Test
    void aSessionThatStopsWithoutLeavingDelaysOneBatchOnly() throws Exception {
        DecodeStepBatcher batcher = new DecodeStepBatcher(channel, TransportOptions.DEFAULTS, 1);
        together(() -> step(batcher, "silent", 0), () -> steps(batcher, "longer", 10));
        assertEquals(1, batcher.holdsExpired(), "the batch after the silent session's step waits for it, once");
    }

    @Test
    void aFailedStepEndsItsSessionsMembership() throws Exception {
        DecodeStepBatcher batcher = new DecodeStepBatcher(channel, TransportOptions.DEFAULTS, 1);
        together(() -> {
            StatusRuntimeException failed = assertThrows(StatusRuntimeException.class, () -> step(batcher, "bad", 0));
            assertEquals(Status.Code.FAILED_PRECONDITION, failed.getStatus().getCode());
        }, () -> steps(batcher, "good", 5));
        assertEquals(0, batcher.holdsExpired());
    }

    @Test
    void twoBatchesGoInFlightWhereThePipelineAllowsTwo() throws Exception {
        arrivals = new CountDownLatch(2); // the first call waits for a second one to arrive
        DecodeStepBatcher batcher = new DecodeStepBatcher(channel, TransportOptions.DEFAULTS, 2);
        runSessions(batcher, 2, 4, STEP_MILLIS / 2);
        assertEquals(2, mostInFlight.get(), "batch sizes " + batchSizes);
    }

    @Test
    void batchesInFlightAreOnePerHostOfTheChain() {
        assertEquals(1, RemotePipeline.batchesInFlight(List.of(stage("127.0.0.1:5001"), stage("127.0.0.1:5002"))));
        assertEquals(2, RemotePipeline.batchesInFlight(List.of(stage("10.0.0.1:5001"), stage("10.0.0.2:5001"),
                stage("10.0.0.2:5002"))));
        assertEquals(2, RemotePipeline.batchesInFlight(List.of(stage("[::1]:5001"), stage("[::2]:5001"))));
    }

    @Test
    void thePropertySetsTheBatchesInFlightAndABadValueIsNamed() {
        List<StageAddress> twoHosts = List.of(stage("10.0.0.1:5001"), stage("10.0.0.2:5001"));
        try {
            System.setProperty(RemotePipeline.BATCHES_IN_FLIGHT, "3");
            assertEquals(3, RemotePipeline.batchesInFlight(twoHosts));
            for (String bad : List.of("0", "65", "two")) {
                System.setProperty(RemotePipeline.BATCHES_IN_FLIGHT, bad);
                IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                        RemotePipeline::batchesInFlightSet);
                assertTrue(refused.getMessage().contains(RemotePipeline.BATCHES_IN_FLIGHT + " must be a whole number"
                        + " from 1 to 64, got '" + bad + "'"), refused.getMessage());
            }
        } finally {
            System.clearProperty(RemotePipeline.BATCHES_IN_FLIGHT);
        }
        assertEquals(0, RemotePipeline.batchesInFlightSet());
        assertEquals(2, RemotePipeline.batchesInFlight(twoHosts));
    }

    private static StageAddress stage(String address) {
        return StageAddress.newBuilder().setNodeId(address).setAddress(address).build();
    }

    /** Sessions that each step {@code steps} times, the i-th starting i x {@code staggerMillis} after the first. */
    private static void runSessions(DecodeStepBatcher batcher, int sessions, int steps, int staggerMillis)
            throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(sessions);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                String id = "session-" + s;
                long delay = (long) s * staggerMillis;
                runs.add(threads.submit(() -> {
                    Thread.sleep(delay);
                    steps(batcher, id, steps);
                    batcher.leave(id);
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /** Runs both at once, each on a thread of its own, and waits for both (rethrowing what failed). */
    private static void together(Runnable first, Runnable second) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<?> one = threads.submit(first);
            Future<?> other = threads.submit(second);
            one.get(30, TimeUnit.SECONDS);
            other.get(30, TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
        }
    }

    /** Steps 0 to count - 1 of {@code session}. */
    private static void steps(DecodeStepBatcher batcher, String session, int count) {
        for (int i = 0; i < count; i++) {
            step(batcher, session, i);
        }
    }

    /** One step of {@code session}, checked against the stage's answer. */
    private static void step(DecodeStepBatcher batcher, String session, int step) {
        ForwardResponse answer = batcher.forward(ForwardRequest.newBuilder().setSessionId(session).setStep(step)
                .build());
        assertEquals(step + 1, answer.getToken(), "token of step " + step + " of " + session);
    }
}
