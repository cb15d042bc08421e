package io.convllava.tests;

import io.convllava.common.cluster.LayerRange;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.SamplingOptions;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A range move while streams run: llm nodes 0-2 and 3-4 with fixed layers and one {@code auto} node, which the plan
 * gives 2-3. The 3-4 node leaves in the middle of six concurrent streams; the plan leader moves the auto node to 2-4
 * (make-before-break: it serves 2-3 until 2-4 is loaded and published), and every stream completes with exactly the
 * tokens of an uninterrupted run, none with an error.
 */
class RangeMoveUnderLoadTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final int STREAMS = 6;
    private static final int TOKENS_BEFORE_THE_MOVE = 10;

    @Test
    void streamsOutliveARangeMove() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            // without prefix reuse, a replayed prompt is computed as the original was: seeded answers stay equal
            cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY), c -> c.withPrefixReuse(false));
            cluster.llm("0-2");
            LlmNode leaving = cluster.llm("3-4");
            LlmNode moving = cluster.llm("auto");
            cluster.awaitPipelines(1);
            assertEquals(new LayerRange(2, 3), moving.layers(), "the plan fills the gap between the fixed nodes");

            List<GenerateRequest> requests = new ArrayList<>();
            List<int[]> uninterrupted = new ArrayList<>();
            for (int i = 0; i < STREAMS; i++) {
                // sampled at temperature 1 so that each runs its full length instead of stopping at an early EOS
                GenerateRequest request = Streams.request(TINY.question(1), null, 200, false).toBuilder()
                        .setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(100 + i)).build();
                requests.add(request);
                uninterrupted.add(Streams.collect(cluster.client().generate(request)).tokens());
                assertTrue(uninterrupted.get(i).length > 2 * TOKENS_BEFORE_THE_MOVE,
                        "reference run " + i + " is long enough: " + uninterrupted.get(i).length);
            }

            ExecutorService clients = Executors.newFixedThreadPool(STREAMS);
            CountDownLatch underWay = new CountDownLatch(STREAMS);
            List<Future<int[]>> answers = new ArrayList<>();
            for (GenerateRequest request : requests) {
                answers.add(clients.submit(() -> Streams.collectSignalling(cluster.client().generate(request),
                        TOKENS_BEFORE_THE_MOVE, underWay)));
            }
            assertTrue(underWay.await(60, TimeUnit.SECONDS), "every stream under way");
            long left = System.nanoTime();
            leaving.close();
            for (int i = 0; i < STREAMS; i++) {
                assertArrayEquals(uninterrupted.get(i), answers.get(i).get(120, TimeUnit.SECONDS),
                        "stream " + i + " has the tokens of an uninterrupted run");
            }
            System.out.printf("range move under load: %d streams complete and unchanged %.0f ms after the 3-4 node"
                    + " left%n", STREAMS, (System.nanoTime() - left) / 1e6);
            clients.shutdown();
            assertEquals(new LayerRange(2, 4), moving.layers(), "the auto node moved to close the gap");
            TestCluster.await(() -> moving.activeSessions() == 0, "the moved node to hold no session");
        }
    }
}
