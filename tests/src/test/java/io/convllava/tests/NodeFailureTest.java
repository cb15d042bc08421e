package io.convllava.tests;

import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
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
}
