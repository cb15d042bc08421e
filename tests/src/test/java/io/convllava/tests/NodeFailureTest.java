package io.convllava.tests;

import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.convllava.proto.v1.Message;
import io.convllava.proto.v1.SamplingOptions;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An llm node that stops in the middle of a stream: the coordinator moves the session to the other pipeline and
 * replays it there, so the client gets exactly the tokens of an uninterrupted run and no error; the stages that
 * survive free the old session. (Killed processes: {@code FailoverProcessTest}.)
 */
class NodeFailureTest {
    private static final Reference TINY = new Reference("tiny-convllava");

    @Test
    void aStageThatStopsMidStreamLeavesTheStreamCompleteAndUnchanged() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY));
            LlmNode[] first = {cluster.llm("0-2"), cluster.llm("0-2")};
            LlmNode[] last = {cluster.llm("2-4"), cluster.llm("2-4")};
            cluster.awaitPipelines(2);

            // sampled at temperature 1 so that it runs its full length instead of stopping at an early EOS
            GenerateRequest story = Streams.request(TINY.question(1), null, 120, false).toBuilder()
                    .setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(7)).build();
            int[] uninterrupted = Streams.collect(cluster.client().generate(story)).tokens();
            assertTrue(uninterrupted.length > 40, "the reference run is long enough: " + uninterrupted.length);

            Iterator<GenerateResponse> stream = cluster.client().generate(story);
            List<Integer> tokens = new ArrayList<>();
            while (tokens.size() < 20) {
                tokens.addAll(stream.next().getDelta().getTokenIdsList());
            }
            int busy = last[0].activeSessions() > 0 ? 0 : 1;
            assertEquals(1, last[busy].activeSessions(), "one last stage holds the session");
            last[busy].close();
            Streams.Answer rest = Streams.collect(stream);
            for (int t : rest.tokens()) {
                tokens.add(t);
            }
            assertArrayEquals(uninterrupted, tokens.stream().mapToInt(Integer::intValue).toArray(),
                    "the stream goes on with the tokens of an uninterrupted run");
            TestCluster.await(() -> first[busy].activeSessions() == 0, "the surviving first stage to free the session");
        }
    }

    /**
     * A follow-up that continued from the first turn's kept cache fails over with the tokens of an uninterrupted
     * run: the replay computes the kept positions as they were computed (the first turn's prompt as one chunk, its
     * answer row by row). Two identical clusters: one runs both turns, the other stops the follow-up's last stage
     * mid-stream.
     */
    @Test
    void aFollowUpContinuingFromAKeptCacheFailsOverUnchanged() throws Exception {
        int[] uninterrupted = twoTurns(false);
        assertTrue(uninterrupted.length > 40, "the reference run is long enough: " + uninterrupted.length);
        assertArrayEquals(uninterrupted, twoTurns(true), "the follow-up goes on as in an uninterrupted run");
    }

    /** Both turns on a fresh cluster (prefix reuse on); returns the follow-up's tokens. */
    private static int[] twoTurns(boolean stopMidStream) throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY));
            cluster.llm("0-2");
            cluster.llm("0-2");
            LlmNode[] last = {cluster.llm("2-4"), cluster.llm("2-4")};
            cluster.awaitPipelines(2);
            String question = TINY.question(1);
            Final first = Streams.collect(cluster.client().generate(Streams.request(question, null, 30, false)
                    .toBuilder().setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(3)).build()))
                    .last();
            GenerateRequest followUp = GenerateRequest.newBuilder()
                    .addMessages(Message.newBuilder().setRole(Message.Role.USER).setText(question))
                    .addMessages(Message.newBuilder().setRole(Message.Role.ASSISTANT).setText(first.getText()))
                    .addMessages(Message.newBuilder().setRole(Message.Role.USER).setText("And then?"))
                    .setMaxNewTokens(100)
                    .setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(4)).build();
            Iterator<GenerateResponse> stream = cluster.client().generate(followUp);
            List<Integer> tokens = new ArrayList<>();
            Final end = null;
            while (stream.hasNext()) {
                GenerateResponse event = stream.next();
                tokens.addAll(event.getDelta().getTokenIdsList());
                if (event.hasFinal()) {
                    end = event.getFinal();
                }
                if (stopMidStream && tokens.size() == 20) {
                    (last[0].activeSessions() > 0 ? last[0] : last[1]).close();
                }
            }
            assertTrue(end != null && end.getUsage().getCachedPromptTokens() >= first.getUsage().getPromptTokens(),
                    "the follow-up continued from the first turn's cache: " + (end == null ? null : end.getUsage())
                            + ", first turn " + first.getUsage());
            System.out.printf("follow-up%s: %d of %d prompt positions from the first turn's cache (its prompt: %d)%n",
                    stopMidStream ? " with a failover" : "", end.getUsage().getCachedPromptTokens(),
                    end.getUsage().getPromptTokens(), first.getUsage().getPromptTokens());
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
