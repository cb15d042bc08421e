package io.convllava.llm.server;

import io.convllava.common.client.RemotePipeline;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.pipeline.StepResult;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.TransportOptions;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.LoadProgress;
import io.convllava.llm.model.ReferenceCase;
import io.convllava.proto.v1.StageAddress;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chains of llm nodes on real Netty loopback serving the tiny fixture: [0,2)+[2,4) and [0,1)+[1,3)+[3,4), driven
 * through {@link RemotePipeline}, must reproduce the reference prefill logits and greedy tokens, and leave no KV
 * cache behind after release or failure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlmPipelineOverGrpcTest {
    private static final int[][] RANGES = {{0, 2}, {2, 4}, {0, 1}, {1, 3}, {3, 4}};

    private LlmConfig config;
    private final List<LlamaShard> shards = new ArrayList<>();
    private final List<LlmNodeServer> servers = new ArrayList<>();
    private ChannelPool channels;
    private List<ReferenceCase> cases;

    @BeforeAll
    void startNodes() throws IOException {
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        config = files.llmConfig();
        try (TensorSource weights = files.openLlmWeights()) {
            for (int[] r : RANGES) {
                LlamaShard shard = LlamaShard.load(config, weights, r[0], r[1], "cpu", LoadProgress.silent());
                shards.add(shard);
                servers.add(LlmNodeServer.start("127.0.0.1", 0, shard, config, TransportOptions.DEFAULTS,
                        LlmNodeSettings.of("llm-" + r[0] + "-" + r[1])));
            }
        }
        channels = new ChannelPool(TransportOptions.DEFAULTS);
        cases = ReferenceCase.load("tiny-convllava");
    }

    @AfterAll
    void stopNodes() {
        channels.close();
        servers.forEach(LlmNodeServer::close);
        shards.forEach(LlamaShard::close);
    }

    @AfterEach
    void everyStageIsEmpty() {
        for (int i = 0; i < servers.size(); i++) {
            assertEquals(0, servers.get(i).activeSessions(), "sessions left on " + Arrays.toString(RANGES[i]));
        }
    }

    @Test
    void twoNodeChainReproducesTheReference() {
        checkReference(pipeline(0, 1));
    }

    @Test
    void threeNodeChainReproducesTheReference() {
        checkReference(pipeline(2, 3, 4));
    }

    @Test
    void releaseFreesTheCacheOnEveryStage() {
        RemotePipeline pipeline = pipeline(2, 3, 4);
        ReferenceCase c = cases.get(1);
        StepResult first = pipeline.prefill("s-release", c.prompt(), SamplingParams.GREEDY, 0, false);
        assertNull(first.logits());
        pipeline.decode("s-release", first.token(), SamplingParams.GREEDY, 1, false);
        for (int node : new int[]{2, 3, 4}) {
            assertEquals(1, servers.get(node).activeSessions());
            assertEquals(c.sequenceLength() + 1, shards.get(node).sessionLength("s-release"));
        }
        pipeline.release("s-release");
        // everyStageIsEmpty checks all nodes
    }

    @Test
    void samplingHappensOnTheLastStageAndIsReproducible() {
        RemotePipeline pipeline = pipeline(0, 1);
        SamplingParams params = new SamplingParams(0.8f, 0.95f, 50, 42L);
        ReferenceCase c = cases.get(0);
        int[] a = generate(pipeline, "s-sample-a", c, params, 6, null);
        int[] b = generate(pipeline, "s-sample-b", c, params, 6, null);
        pipeline.release("s-sample-a");
        pipeline.release("s-sample-b");
        assertArrayEquals(a, b);
    }

    @Test
    void downstreamErrorsPropagateWithTheirStatusAndFreeEveryStage() {
        // the last stage is listed with layers it does not hold: it answers FAILED_PRECONDITION after the
        // first two stages have already cached the prompt
        List<StageAddress> route = new ArrayList<>(pipeline(2, 3, 4).stages());
        route.set(2, RemotePipeline.stage("llm-3-4", servers.get(4).address(), 3, 5));
        RemotePipeline wrong = new RemotePipeline(route, channels, 0);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> wrong.prefill("s-wrong", cases.get(1).prompt(), SamplingParams.GREEDY, 0, false));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("llm-3-4 [3, 4)"), e.getStatus().getDescription());
    }

    @Test
    void unreachableStageIsUnavailableAndFreesTheStagesBeforeIt() throws Exception {
        // a port nobody listens on: stop a server of our own
        LlmNodeServer gone = LlmNodeServer.start("127.0.0.1", 0, shards.get(1), config, TransportOptions.DEFAULTS,
                LlmNodeSettings.of("gone"));
        String deadAddress = gone.address();
        gone.close();
        RemotePipeline broken = new RemotePipeline(List.of(
                RemotePipeline.stage("llm-0-2", servers.get(0).address(), 0, 2),
                RemotePipeline.stage("gone", deadAddress, 2, 4)), channels, 0);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> broken.prefill("s-dead", cases.get(1).prompt(), SamplingParams.GREEDY, 0, false));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    }

    @Test
    void cancelledStepsLeaveNoCacheBehind() throws InterruptedException {
        TransportOptions impatient = TransportOptions.DEFAULTS.withCallDeadline(Duration.ofMillis(1));
        try (ChannelPool hurried = new ChannelPool(impatient)) {
            RemotePipeline pipeline = new RemotePipeline(pipeline(2, 3, 4).stages(), hurried, 0);
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> pipeline.prefill("s-late", cases.get(0).prompt(), SamplingParams.GREEDY, 0, false));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        }
        // stages still computing when the deadline passed drop the session as soon as they finish
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < until && servers.stream().anyMatch(s -> s.activeSessions() > 0)) {
            Thread.sleep(20);
        }
    }

    private RemotePipeline pipeline(int... nodes) {
        List<StageAddress> stages = new ArrayList<>();
        for (int n : nodes) {
            stages.add(RemotePipeline.stage("llm-" + RANGES[n][0] + "-" + RANGES[n][1], servers.get(n).address(),
                    RANGES[n][0], RANGES[n][1]));
        }
        return new RemotePipeline(stages, channels, 0);
    }

    private void checkReference(RemotePipeline pipeline) {
        for (ReferenceCase c : cases) {
            String session = "ref-" + c.index();
            float[][] prefillLogits = new float[1][];
            int[] tokens = generate(pipeline, session, c, SamplingParams.GREEDY, c.greedyTokens().length,
                    prefillLogits);
            pipeline.release(session);
            assertMaxDiff(c + " prefill logits", c.prefillLogits(), prefillLogits[0], 1e-3);
            assertArrayEquals(c.stableTokens(), Arrays.copyOf(tokens, c.stablePrefix()), c + " greedy tokens");
        }
    }

    /** Prefill then decode until {@code count} tokens; the prefill logits go to {@code logitsOut[0]} if given. */
    private static int[] generate(RemotePipeline pipeline, String session, ReferenceCase c, SamplingParams params,
                                  int count, float[][] logitsOut) {
        int[] tokens = new int[count];
        StepResult step = pipeline.prefill(session, c.prompt(), params, 0, logitsOut != null);
        if (logitsOut != null) {
            logitsOut[0] = step.logits();
        }
        tokens[0] = step.token();
        for (int i = 1; i < count; i++) {
            tokens[i] = pipeline.decode(session, tokens[i - 1], params, i, false).token();
        }
        return tokens;
    }

    private static void assertMaxDiff(String what, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + " length");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= tolerance, what + ": max |diff| " + worst + " > " + tolerance);
    }
}
