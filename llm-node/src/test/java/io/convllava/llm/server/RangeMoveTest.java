package io.convllava.llm.server;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.client.RemotePipeline;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.TransportOptions;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.LoadProgress;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An llm node moving from layers [0, 4) to [0, 2) make-before-break, over real Netty, on the tiny model: the sessions
 * of the old layers and the requests of callers that have not seen the move keep being served while the new layers
 * take new sessions; the old layers go once drained; plan epochs older than the move are refused on the new layers.
 */
class RangeMoveTest {
    private static final List<PromptSegment> PROMPT = List.of(new PromptSegment.Tokens(new int[]{1, 319, 13563}));
    private static final int TOKENS = 8;
    private static final long OLD_EPOCH = 3;
    private static final long MOVE_EPOCH = 4;

    @Test
    void sessionsOnTheOldLayersContinueAcrossTheMoveAndNewSessionsTakeTheNewLayers() throws Exception {
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        LlmConfig config = files.llmConfig();
        LlamaShard whole;
        LlamaShard head;
        LlamaShard tail;
        try (TensorSource weights = files.openLlmWeights()) {
            whole = LlamaShard.load(config, weights, 0, 4, "cpu", LoadProgress.silent());
            head = LlamaShard.load(config, weights, 0, 2, "cpu", LoadProgress.silent());
            tail = LlamaShard.load(config, weights, 2, 4, "cpu", LoadProgress.silent());
        }
        try (LlmNodeServer moving = LlmNodeServer.start("127.0.0.1", 0, whole, config, TransportOptions.DEFAULTS,
                LlmNodeSettings.of("m").withLayersEpoch(OLD_EPOCH));
             LlmNodeServer tailNode = LlmNodeServer.start("127.0.0.1", 0, tail, config, TransportOptions.DEFAULTS,
                     LlmNodeSettings.of("t"));
             ChannelPool channels = new ChannelPool(TransportOptions.DEFAULTS)) {
            // callers that route by the plan before the move: the node holds [0, 4)
            RemotePipeline before = new RemotePipeline(List.of(RemotePipeline.stage("m", moving.address(), 0, 4)),
                    channels, OLD_EPOCH);
            int[] reference = generate(before, "reference", TOKENS);

            List<Integer> inFlight = new ArrayList<>();
            inFlight.add(before.prefill("in-flight", PROMPT, SamplingParams.GREEDY, 0, false).token());
            for (int step = 1; step < 3; step++) {
                inFlight.add(before.decode("in-flight", inFlight.get(step - 1), SamplingParams.GREEDY, step, false)
                        .token());
            }

            moving.switchTo(head, MOVE_EPOCH);
            assertSame(head, moving.shard(), "new sessions get the new layers");

            for (int step = 3; step < TOKENS; step++) {
                inFlight.add(before.decode("in-flight", inFlight.get(step - 1), SamplingParams.GREEDY, step, false)
                        .token());
            }
            assertEquals(asList(reference), inFlight, "the session begun on the old layers finishes there unchanged");
            assertTrue(before.prefill("late", PROMPT, SamplingParams.GREEDY, 0, false).token() >= 0,
                    "a caller that has not seen the move yet is still served by the old layers");

            RemotePipeline after = new RemotePipeline(List.of(RemotePipeline.stage("m", moving.address(), 0, 2),
                    RemotePipeline.stage("t", tailNode.address(), 2, 4)), channels, MOVE_EPOCH);
            assertEquals(asList(reference), asList(generate(after, "after", TOKENS)),
                    "the new layers with the next stage answer as the old ones did");

            RemotePipeline stale = new RemotePipeline(after.stages(), channels, OLD_EPOCH);
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                    () -> stale.prefill("stale", PROMPT, SamplingParams.GREEDY, 0, false));
            assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
            assertTrue(refused.getStatus().getDescription().contains("plan epoch 4 gave this node its layers"),
                    refused.getStatus().getDescription());

            before.release("in-flight");
            // "late" still holds the old layers: the drain waits for it, then gives up after its patience
            long started = System.nanoTime();
            LlamaShard drained = moving.drainPrevious(Duration.ofMillis(300));
            double waitedMs = (System.nanoTime() - started) / 1e6;
            assertSame(whole, drained);
            assertTrue(waitedMs >= 250, "the drain waited for the session left on the old layers: " + waitedMs);
            StatusRuntimeException moved = assertThrows(StatusRuntimeException.class,
                    () -> before.decode("late", 1, SamplingParams.GREEDY, 1, false));
            assertEquals(Status.Code.FAILED_PRECONDITION, moved.getStatus().getCode(),
                    "a session left past the drain fails so that its coordinator moves it: " + moved.getStatus());
            assertEquals(0, moving.activeSessions());
            assertEquals(0, tailNode.activeSessions());
        } finally {
            whole.close();
            head.close();
            tail.close();
        }
    }

    private static int[] generate(RemotePipeline pipeline, String session, int tokens) {
        int[] out = new int[tokens];
        out[0] = pipeline.prefill(session, PROMPT, SamplingParams.GREEDY, 0, false).token();
        for (int step = 1; step < tokens; step++) {
            out[step] = pipeline.decode(session, out[step - 1], SamplingParams.GREEDY, step, false).token();
        }
        pipeline.release(session);
        return out;
    }

    private static List<Integer> asList(int[] tokens) {
        return java.util.Arrays.stream(tokens).boxed().toList();
    }
}
