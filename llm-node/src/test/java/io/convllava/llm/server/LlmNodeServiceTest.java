package io.convllava.llm.server;

import io.convllava.common.transport.SegmentCodec;

import io.convllava.common.client.RemotePipeline;

import io.convllava.common.config.LlmConfig;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TensorCodec;
import io.convllava.common.transport.TransportOptions;
import io.convllava.llm.model.LlamaShard;
import io.convllava.proto.v1.ForwardRequest;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.proto.v1.Segment;
import io.convllava.proto.v1.Segments;
import io.convllava.proto.v1.StageAddress;
import io.convllava.proto.v1.Tensor;
import io.convllava.proto.v1.TokenIds;
import io.convllava.common.transport.GrpcServer;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an llm node refuses, over real Netty: a [0,2)+[2,4) chain under plan epoch 7, one session at a time. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlmNodeServiceTest {
    private static final long EPOCH = 7;
    private static final List<PromptSegment> PROMPT = List.of(new PromptSegment.Tokens(new int[]{1, 319, 13563}));

    private LlmConfig config;
    private LlamaShard first;
    private LlamaShard last;
    private LlmNodeServer firstNode;
    private LlmNodeServer lastNode;
    private ChannelPool channels;
    private TwoStageChain chain;

    @BeforeAll
    void start() throws IOException {
        chain = TwoStageChain.start(shard -> LlmNodeSettings.of("a").withMaxSessions(1).withLayersEpoch(EPOCH),
                shard -> new LlmNodeSettings("b", 1, EPOCH));
        config = chain.config();
        first = chain.first();
        last = chain.last();
        firstNode = chain.firstNode();
        lastNode = chain.lastNode();
        channels = chain.channels();
    }

    @AfterAll
    void stop() {
        chain.close();
    }

    @AfterEach
    void noSessionsLeft() {
        assertEquals(0, firstNode.activeSessions(), "sessions left on [0, 2)");
        assertEquals(0, lastNode.activeSessions(), "sessions left on [2, 4)");
    }

    @Test
    void hiddenStateOfTheWrongWidthIsInvalidArgument() {
        StatusRuntimeException e = forwardToLast(TensorCodec.encode(HostTensor.of(new float[96], 3, 32)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("llm node b [2, 4): ForwardRequest.hidden: expected shape [*, 64], got [3, 32]",
                e.getStatus().getDescription());
    }

    @Test
    void hiddenStateWhoseBytesDoNotMatchItsShapeIsInvalidArgument() {
        Tensor lying = TensorCodec.encode(HostTensor.of(new float[128], 2, 64)).toBuilder().setShape(0, 3).build();
        StatusRuntimeException e = forwardToLast(lying);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("needs 768 bytes, got 512"),
                e.getStatus().getDescription());
    }

    @Test
    void payloadOverFourMebibytesReachesTheNode() {
        // [20000, 64] float32 = 5.1 MB: past gRPC's 4 MiB default, so only the shard's own limit can refuse it
        StatusRuntimeException e = forwardToLast(TensorCodec.encode(HostTensor.of(new float[20000 * 64], 20000, 64)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("max_position_embeddings 4096"),
                e.getStatus().getDescription());
    }

    @Test
    void inputOfTheWrongKindForTheStageIsInvalidArgument() {
        ForwardRequest segmentsToLast = request("s-kind").setSegments(SegmentCodec.encode(PROMPT)).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub(lastNode).forward(segmentsToLast));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("only the first stage takes segments"));

        ForwardRequest hiddenToFirst = request("s-kind")
                .setHidden(TensorCodec.encode(HostTensor.of(new float[64], 1, 64)))
                .addRoute(lastStage()).build();
        e = assertThrows(StatusRuntimeException.class, () -> stub(firstNode).forward(hiddenToFirst));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("the first stage takes segments"));
    }

    @Test
    void tokenOutsideTheVocabularyIsInvalidArgument() {
        Segments bad = Segments.newBuilder().addSegments(Segment.newBuilder()
                .setTokenIds(TokenIds.newBuilder().addIds(1).addIds(-200))).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub(firstNode).forward(request("s-vocab").setSegments(bad).addRoute(lastStage()).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains(
                "ForwardRequest.segments[0].token_ids[1]: token id -200 is outside the vocabulary [0, 32000)"));
    }

    @Test
    void routeThatStopsShortOfTheLastLayerIsInvalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub(firstNode).forward(request("s-route").setSegments(SegmentCodec.encode(PROMPT)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("route is empty"));
    }

    @Test
    void stalePlanEpochIsFailedPrecondition() {
        RemotePipeline stale = new RemotePipeline(chain(), channels, EPOCH - 1);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stale.prefill("s-stale", PROMPT, SamplingParams.GREEDY, 0, false));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("routed by plan epoch 6, but plan epoch 7 gave this node"
                + " its layers"), e.getStatus().getDescription());
    }

    @Test
    void laterPlanEpochsAreServed() {
        // a plan that changed elsewhere in the cluster leaves these layers where they are
        RemotePipeline later = new RemotePipeline(chain(), channels, EPOCH + 3);
        later.prefill("s-later", PROMPT, SamplingParams.GREEDY, 0, false);
        later.release("s-later");
    }

    @Test
    void cachedLengthOtherThanTheCallerExpectsIsFailedPrecondition() {
        ForwardRequest resumed = request("s-unknown").setSegments(SegmentCodec.encode(PROMPT)).addRoute(lastStage())
                .setPastLength(5).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub(firstNode).forward(resumed));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("has 0 positions cached, the caller expects 5"));
    }

    @Test
    void sessionsBeyondTheLimitAreResourceExhaustedUntilOneIsReleased() {
        RemotePipeline pipeline = new RemotePipeline(chain(), channels, EPOCH);
        pipeline.prefill("s-1", PROMPT, SamplingParams.GREEDY, 0, false);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> pipeline.prefill("s-2", PROMPT, SamplingParams.GREEDY, 0, false));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertEquals(3, first.sessionLength("s-1"), "a refused session leaves the others alone");

        pipeline.release("s-1");
        pipeline.prefill("s-2", PROMPT, SamplingParams.GREEDY, 0, false);
        pipeline.release("s-2");
    }

    @Test
    void aSessionNobodyReleasesIsFreedOnceIdle() throws IOException, InterruptedException {
        // a stage whose sweeper releases sessions after 200 ms without a step
        try (LlmNodeServer sweeping = LlmNodeServer.start("127.0.0.1", 0, last, config, TransportOptions.DEFAULTS,
                LlmNodeSettings.of("c").withSessionIdle(Duration.ofMillis(200)))) {
            RemotePipeline pipeline = new RemotePipeline(List.of(RemotePipeline.stage("a", firstNode.address(), 0, 2),
                    RemotePipeline.stage("c", sweeping.address(), 2, 4)), channels, 0);
            pipeline.prefill("s-abandoned", PROMPT, SamplingParams.GREEDY, 0, false);
            assertEquals(1, sweeping.activeSessions());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (sweeping.activeSessions() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, sweeping.activeSessions(), "the idle session should have been released");
            pipeline.release("s-abandoned"); // the first stage's default sweeper waits 10 minutes
        }
    }

    @Test
    void releaseCountsTheStagesThatHeldTheSession() {
        RemotePipeline pipeline = new RemotePipeline(chain(), channels, EPOCH);
        pipeline.prefill("s-count", PROMPT, SamplingParams.GREEDY, 0, false);
        ReleaseRequest release = ReleaseRequest.newBuilder().setSessionId("s-count").addRoute(lastStage()).build();
        assertEquals(2, stub(firstNode).release(release).getReleasedStages());
        assertEquals(0, stub(firstNode).release(release).getReleasedStages());
    }

    @Test
    void laterStagesInheritTheCallersDeadline() throws IOException {
        AtomicLong seenMillis = new AtomicLong(-1);
        ServerInterceptor recordDeadline = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                             ServerCallHandler<Q, A> next) {
                Deadline deadline = Context.current().getDeadline();
                seenMillis.set(deadline == null ? Long.MAX_VALUE : deadline.timeRemaining(TimeUnit.MILLISECONDS));
                return next.startCall(call, headers);
            }
        };
        LlmNodeService observed = new LlmNodeService(last, config, channels, new LlmNodeSettings("b", 1, EPOCH));
        ServerServiceDefinition intercepted = ServerInterceptors.intercept(observed, recordDeadline);
        TransportOptions thirtySeconds = TransportOptions.DEFAULTS.withCallDeadline(Duration.ofSeconds(30));
        try (GrpcServer server = GrpcServer.start("observed", "127.0.0.1", 0, TransportOptions.DEFAULTS,
                List.of(() -> intercepted));
             ChannelPool hurried = new ChannelPool(thirtySeconds)) {
            RemotePipeline pipeline = new RemotePipeline(List.of(RemotePipeline.stage("a", firstNode.address(), 0, 2),
                    RemotePipeline.stage("b", server.address(), 2, 4)), hurried, EPOCH);
            pipeline.prefill("s-deadline", PROMPT, SamplingParams.GREEDY, 0, false);
            pipeline.release("s-deadline");
        }
        // the first node's own call deadline is 120 s: seeing at most 30 s means the caller's deadline travelled on
        assertTrue(seenMillis.get() > 0 && seenMillis.get() <= 30_000, "deadline seen downstream: " + seenMillis);
    }

    private StatusRuntimeException forwardToLast(Tensor hidden) {
        ForwardRequest request = request("s-hidden").setHidden(hidden).build();
        return assertThrows(StatusRuntimeException.class, () -> stub(lastNode).forward(request));
    }

    private static ForwardRequest.Builder request(String session) {
        return ForwardRequest.newBuilder().setSessionId(session).setPlanEpoch(EPOCH);
    }

    private List<StageAddress> chain() {
        return List.of(RemotePipeline.stage("a", firstNode.address(), 0, 2), lastStage());
    }

    private StageAddress lastStage() {
        return RemotePipeline.stage("b", lastNode.address(), 2, 4);
    }

    private LlmNodeGrpc.LlmNodeBlockingStub stub(LlmNodeServer node) {
        return Channels.withDeadline(LlmNodeGrpc.newBlockingStub(channels.get(node.address())),
                TransportOptions.DEFAULTS);
    }

}
