package io.convllava.tests;

import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.convllava.proto.v1.SamplingOptions;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.util.Iterator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An llm node that dies in the middle of a stream: that stream ends with UNAVAILABLE, the stages that survive
 * free its KV cache, and the next request is served by the other pipeline with the right answer.
 */
class NodeFailureTest {
    private static final Reference TINY = new Reference("tiny-convllava");

    @Test
    void aDyingStageFailsOnlyItsStreamAndTheReplicaServesTheNext() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY));
            LlmNode[] first = {cluster.llm("0-2"), cluster.llm("0-2")};
            LlmNode[] last = {cluster.llm("2-4"), cluster.llm("2-4")};
            cluster.awaitPipelines(2);

            // sampled at temperature 1 so that it runs its full length instead of stopping at an early EOS
            GenerateRequest longStory = Streams.request(TINY.question(1), null, 3000, false).toBuilder()
                    .setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(7)).build();
            Iterator<GenerateResponse> stream = cluster.client().generate(longStory);
            assertTrue(stream.next().hasDelta(), "the stream should start with a text delta");
            int busy = last[0].activeSessions() > 0 ? 0 : 1;
            assertEquals(1, last[busy].activeSessions(), "one last stage holds the session");
            last[busy].close();

            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> {
                while (stream.hasNext()) {
                    stream.next();
                }
            });
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
            TestCluster.await(() -> first[0].activeSessions() + first[1].activeSessions() == 0,
                    "the surviving first stage to free the session");

            cluster.awaitPipelines(1);
            TINY.assertGreedyPrefix(1, Streams.collect(cluster.client().generate(
                    Streams.request(TINY.question(1), null, 12, false))).tokens());
        }
    }
}
