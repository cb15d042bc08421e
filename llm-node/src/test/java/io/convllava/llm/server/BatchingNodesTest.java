package io.convllava.llm.server;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.client.DecodeStepBatcher;
import io.convllava.common.client.RemotePipeline;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.pipeline.PrefillOptions;
import io.convllava.common.pipeline.PrefixUnavailableException;
import io.convllava.common.pipeline.StepResult;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.SamplingCodec;
import io.convllava.common.transport.SegmentCodec;
import io.convllava.common.transport.TransportOptions;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.ShardInput;
import io.convllava.llm.schedule.BatchLimits;
import io.convllava.proto.v1.ForwardRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two llm nodes ([0,2) + [2,4) of the tiny fixture) with continuous batching, on Netty loopback: concurrent sessions
 * get what they get alone in fewer steps, a long prompt runs in chunks with the same logits as in-process, and KV
 * memory is lent by reservation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BatchingNodesTest {
    private LlmConfig config;
    private LlamaShard first;
    private LlamaShard last;
    private LlmNodeServer firstNode;
    private LlmNodeServer lastNode;
    private ChannelPool channels;
    private TwoStageChain chain;

    @BeforeAll
    void startNodes() throws IOException {
        // the last node lends KV memory for 1152 positions (18 blocks): one long session, or a few short ones
        chain = TwoStageChain.start(shard -> LlmNodeSettings.of("first"), shard -> LlmNodeSettings.of("last")
                .withLimits(BatchLimits.DEFAULTS.withKvCacheBytes(shard.cacheBytesFor(1152))));
        config = chain.config();
        first = chain.first();
        last = chain.last();
        firstNode = chain.firstNode();
        lastNode = chain.lastNode();
        channels = chain.channels();
    }

    @AfterAll
    void stopNodes() {
        chain.close();
    }

    @AfterEach
    void noSessionsLeft() {
        assertEquals(0, firstNode.activeSessions());
        assertEquals(0, lastNode.activeSessions());
    }

    private RemotePipeline pipeline() {
        return new RemotePipeline(List.of(RemotePipeline.stage("first", firstNode.address(), 0, 2),
                RemotePipeline.stage("last", lastNode.address(), 2, 4)), channels, 0);
    }

    @Test
    void concurrentSessionsGetTheirOwnTokensInSharedSteps() throws Exception {
        int sessions = 8;
        int tokens = 12;
        List<List<PromptSegment>> prompts = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < sessions; i++) {
            prompts.add(List.of(new PromptSegment.Tokens(random.ints(5 + 9 * i, 3, 32000).toArray())));
        }
        RemotePipeline pipeline = pipeline();
        List<int[]> alone = new ArrayList<>();
        long before = firstNode.steps();
        for (int i = 0; i < sessions; i++) {
            alone.add(generate(pipeline, "alone-" + i, prompts.get(i), tokens, i));
        }
        long aloneSteps = firstNode.steps() - before;
        ExecutorService callers = Executors.newFixedThreadPool(sessions);
        long lastBefore;
        try {
            before = firstNode.steps();
            lastBefore = lastNode.steps();
            List<Future<int[]>> together = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                int index = i;
                together.add(callers.submit(() -> generate(pipeline, "together-" + index, prompts.get(index), tokens,
                        index)));
            }
            for (int i = 0; i < sessions; i++) {
                assertArrayEquals(alone.get(i), together.get(i).get(), "session " + i);
            }
        } finally {
            callers.shutdownNow();
        }
        DecodeStepBatcher batcher = channels.attached(firstNode.address(), DecodeStepBatcher.class,
                channel -> new DecodeStepBatcher(channel, channels.options(), 1));
        assertTrue(batcher.calls() < batcher.steps(), "decode steps should share calls to the first stage: "
                + batcher.steps() + " steps in " + batcher.calls() + " calls");
        long togetherSteps = firstNode.steps() - before;
        long lastSteps = lastNode.steps() - lastBefore;
        assertEquals(sessions * tokens, aloneSteps);
        assertTrue(togetherSteps < aloneSteps, togetherSteps + " steps together, " + aloneSteps + " alone");
        // what one step of the first node finishes reaches the last as one ForwardBatch, taken in one step
        assertTrue(lastSteps <= togetherSteps, lastSteps + " steps on the last node, " + togetherSteps + " on the first");
    }

    @Test
    void aFailedDecodeStepFailsOnlyItsOwnSessionInASharedCall() throws Exception {
        RemotePipeline pipeline = pipeline();
        DecodeStepBatcher batcher = new DecodeStepBatcher(channels.get(firstNode.address()), channels.options(), 2);
        List<PromptSegment> prompt = List.of(new PromptSegment.Tokens(new int[]{1, 306, 4966, 29871}));
        StepResult step = pipeline.prefill("kept", prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(16));
        try {
            int[] expected = new int[4];
            int token = step.token();
            for (int i = 0; i < expected.length; i++) {
                expected[i] = token;
                token = pipeline.decode("kept", token, SamplingParams.GREEDY, i + 1, false).token();
            }
            pipeline.release("kept");
            step = pipeline.prefill("kept", prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(16));
            ExecutorService callers = Executors.newFixedThreadPool(2);
            try {
                int[] got = new int[expected.length];
                got[0] = step.token();
                for (int i = 1; i < expected.length; i++) {
                    int fed = got[i - 1];
                    int index = i;
                    // a step for a session the node never saw, beside this one's (often in the same call)
                    Future<StatusRuntimeException> ghost = callers.submit(() -> assertThrows(
                            StatusRuntimeException.class, () -> batcher.forward(decodeRequest("ghost-" + index, 5,
                                    fed, index))));
                    got[i] = batcher.forward(decodeRequest("kept", prompt.get(0).length() + i - 1, fed, i))
                            .getToken();
                    assertEquals(Status.Code.FAILED_PRECONDITION, ghost.get().getStatus().getCode());
                }
                assertArrayEquals(expected, got);
            } finally {
                callers.shutdownNow();
            }
        } finally {
            pipeline.release("kept");
        }
    }

    private ForwardRequest decodeRequest(String session, int past, int token, int step) {
        return ForwardRequest.newBuilder().setSessionId(session).setStep(step)
                .setSegments(SegmentCodec.encode(List.of(new PromptSegment.Tokens(new int[]{token}))))
                .addRoute(RemotePipeline.stage("last", lastNode.address(), 2, 4))
                .setSampling(SamplingCodec.encode(SamplingParams.GREEDY))
                .setPastLength(past).build();
    }

    /** Greedy for even {@code seed}s, seeded sampling for odd ones. */
    private static int[] generate(RemotePipeline pipeline, String session, List<PromptSegment> prompt, int tokens,
                                  int seed) {
        SamplingParams params = seed % 2 == 0 ? SamplingParams.GREEDY : new SamplingParams(0.9f, 0.9f, 40, (long) seed);
        int[] out = new int[tokens];
        try {
            StepResult step = pipeline.prefill(session, prompt, params, 0, false, PrefillOptions.reserve(64));
            for (int i = 0; i < tokens; i++) {
                out[i] = step.token();
                if (i + 1 < tokens) {
                    step = pipeline.decode(session, out[i], params, i + 1, false);
                }
            }
        } finally {
            pipeline.release(session);
        }
        return out;
    }

    @Test
    void aPromptLongerThanAChunkRunsInChunksWithTheInProcessLogits() {
        int[] ids = new SplittableRandom(5).ints(LlamaShard.CHUNK + 77, 3, 32000).toArray();
        List<PromptSegment> prompt = List.of(new PromptSegment.Tokens(ids));
        float[] expected;
        try (TensorSource weights = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null).openLlmWeights();
             LlamaShard a = LlamaShard.load(config, weights, 0, 2, "cpu");
             LlamaShard b = LlamaShard.load(config, weights, 2, 4, "cpu")) {
            ShardInput hidden = new ShardInput.Hidden(a.forward("s", new ShardInput.Segments(prompt)).hidden());
            expected = b.forward("s", hidden).logits().copy();
        }
        RemotePipeline pipeline = pipeline();
        try {
            StepResult result = pipeline.prefill("long", prompt, SamplingParams.GREEDY, 0, true,
                    PrefillOptions.reserve(ids.length + 1));
            assertArrayEquals(expected, result.logits());
            assertEquals(ids.length, last.sessionLength("long"));
        } finally {
            pipeline.release("long");
        }
    }

    @Test
    void aNewSessionIsAdmittedOnlyWhileItsKvReservationFits() {
        RemotePipeline pipeline = pipeline();
        List<PromptSegment> prompt = List.of(new PromptSegment.Tokens(new int[] {1, 450, 4996}));
        try {
            // 1024 positions of the 1152
            pipeline.prefill("big", prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(1000));
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                    () -> pipeline.prefill("second", prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(200)));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
            assertTrue(refused.getStatus().getDescription().contains("--kv-cache-bytes"),
                    refused.getStatus().getDescription());
            StatusRuntimeException never = assertThrows(StatusRuntimeException.class,
                    () -> pipeline.prefill("huge", prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(2000)));
            assertTrue(never.getStatus().getDescription().contains("shorten the prompt or max_new_tokens"),
                    never.getStatus().getDescription());
            pipeline.prefill("small", prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(60)); // 64 more positions still fit
            pipeline.release("small");
            pipeline.release("big");
            pipeline.prefill("second", prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(200));
        } finally {
            pipeline.release("big");
            pipeline.release("small");
            pipeline.release("second");
        }
    }

    @Test
    void aKeptCacheLetsALaterSessionRunOnlyItsNewPositions() {
        RemotePipeline pipeline = pipeline();
        int[] history = new SplittableRandom(8).ints(90, 3, 32000).toArray();
        int[] followUp = new SplittableRandom(9).ints(20, 3, 32000).toArray();
        // turn 1: the prompt and two fed tokens, then kept
        StepResult step = pipeline.prefill("turn-1", List.of(new PromptSegment.Tokens(history)),
                SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(128));
        int t1 = step.token();
        int t2 = pipeline.decode("turn-1", t1, SamplingParams.GREEDY, 1, false).token();
        pipeline.decode("turn-1", t2, SamplingParams.GREEDY, 2, false);
        pipeline.release("turn-1", "conversation");
        assertEquals(0, lastNode.activeSessions(), "a kept cache is no session");
        int kept = history.length + 2;
        assertEquals(kept, last.keptLength("conversation"));

        // turn 2: the whole conversation, of which the kept positions are not run again
        int[] all = new int[kept + followUp.length];
        System.arraycopy(history, 0, all, 0, history.length);
        all[history.length] = t1;
        all[history.length + 1] = t2;
        System.arraycopy(followUp, 0, all, kept, followUp.length);
        List<PromptSegment> whole = List.of(new PromptSegment.Tokens(all));
        try {
            StepResult reused = pipeline.prefill("turn-2", PromptSegment.slice(whole, kept - 10, all.length),
                    SamplingParams.GREEDY, 0, true, PrefillOptions.reserve(all.length + 8)
                            .continuing("conversation", kept - 10)); // may stop short of the kept length
            StepResult fresh = pipeline.prefill("fresh", whole, SamplingParams.GREEDY, 0, true, PrefillOptions.NONE);
            assertEquals(all.length, last.sessionLength("turn-2"));
            assertClose(fresh.logits(), reused.logits());
            assertEquals(kept, last.keptLength("conversation"), "the kept cache stays for other sessions");
            // another session continues from it while the first still runs: each from its own copy
            StepResult again = pipeline.prefill("turn-2b", PromptSegment.slice(whole, kept, all.length),
                    SamplingParams.GREEDY, 0, true, PrefillOptions.NONE.continuing("conversation", kept));
            assertClose(fresh.logits(), again.logits());
            assertEquals(all.length, last.sessionLength("turn-2b"));
            assertEquals(all.length, last.sessionLength("turn-2"));
            assertThrows(PrefixUnavailableException.class, () -> pipeline.prefill("turn-2c",
                    PromptSegment.slice(whole, kept, all.length), SamplingParams.GREEDY, 0, false,
                    PrefillOptions.NONE.continuing("never-kept", kept)));
        } finally {
            pipeline.release("turn-2");
            pipeline.release("turn-2b");
            pipeline.release("fresh");
        }
    }

    @Test
    void keptCachesGiveWayToNewSessionsWithinTheKvBudget() {
        RemotePipeline pipeline = pipeline();
        List<PromptSegment> prompt = List.of(new PromptSegment.Tokens(new SplittableRandom(10).ints(370, 3, 32000)
                .toArray()));
        for (int i = 0; i < 3; i++) { // 3 x 6 blocks of 64 positions kept: all of the last node's 18
            pipeline.prefill("k-" + i, prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(384));
            pipeline.release("k-" + i, "kept-" + i);
        }
        assertTrue(last.keptLength("kept-0") > 0 && last.keptLength("kept-2") > 0);
        try {
            // needs 4 blocks: the least recently kept caches go first
            pipeline.prefill("new", prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(200));
            assertEquals(-1, last.keptLength("kept-0"));
            assertTrue(last.keptLength("kept-2") > 0, "only as many as needed are evicted");
        } finally {
            pipeline.release("new");
            // a session needing the whole budget evicts every kept cache
            pipeline.prefill("drop", prompt, SamplingParams.GREEDY, 0, false, PrefillOptions.reserve(1100));
            pipeline.release("drop");
            assertEquals(-1, last.keptLength("kept-2"));
        }
    }

    private static void assertClose(float[] expected, float[] actual) {
        float worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst < 1e-4f, "max |logit difference| " + worst);
    }
}
