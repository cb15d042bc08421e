package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.SamplingOptions;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching must not change what anyone gets: 16 streams at once through a cluster (the demo model, 1
 * vision + 2 llm nodes) give exactly the tokens each gives alone, greedy and seeded sampling alike, while the llm
 * nodes serve them in shared steps.
 */
class ConcurrentStreamsTest {
    private static final int STREAMS = 16;
    private static final int MAX_NEW_TOKENS = 40;

    @Test
    void sixteenConcurrentStreamsGiveTheTokensEachGivesAlone() throws Exception {
        Path model = Fixtures.shapesModel();
        ModelFiles files = ModelFiles.resolve(model.toString(), null, null);
        JsonArray samples = JsonParser.parseString(Files.readString(model.resolve("samples.json")))
                .getAsJsonObject().getAsJsonArray("samples");
        List<GenerateRequest> requests = new ArrayList<>();
        for (int i = 0; i < STREAMS; i++) {
            JsonObject s = samples.get(i % samples.size()).getAsJsonObject();
            GenerateRequest.Builder request = Streams.request(s.get("question").getAsString(),
                    Files.readAllBytes(model.resolve(s.get("image").getAsString())), MAX_NEW_TOKENS, false).toBuilder();
            if (i >= samples.size()) { // the repeated questions sample, each with its own seed
                request.setSampling(SamplingOptions.newBuilder().setTemperature(1.0f).setTopP(0.95f).setSeed(100 + i));
            }
            requests.add(request.build());
        }
        try (TestingServer zookeeper = new TestingServer(true);
             TestCluster cluster = new TestCluster(zookeeper, files, "convllava-shapes")) {
            LlmNode first = cluster.startTwoStagePipeline();

            long before = first.steps();
            List<int[]> alone = new ArrayList<>();
            for (GenerateRequest request : requests) {
                alone.add(Streams.collect(cluster.client().generate(request)).tokens());
            }
            long aloneSteps = first.steps() - before;

            ExecutorService clients = Executors.newFixedThreadPool(STREAMS);
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<int[]>> together = new ArrayList<>();
                for (GenerateRequest request : requests) {
                    together.add(clients.submit(() -> {
                        go.await();
                        return Streams.collect(cluster.client().generate(request)).tokens();
                    }));
                }
                before = first.steps();
                go.countDown();
                for (int i = 0; i < STREAMS; i++) {
                    assertArrayEquals(alone.get(i), together.get(i).get(), "stream " + i);
                }
            } finally {
                clients.shutdownNow();
            }
            long togetherSteps = first.steps() - before;
            int tokens = alone.stream().mapToInt(t -> t.length).sum();
            assertTrue(tokens > STREAMS, "the streams should say more than one token each");
            assertTrue(aloneSteps >= tokens, "alone, every token takes a step of its own");
            assertTrue(togetherSteps < aloneSteps, "concurrent streams should share steps: " + togetherSteps
                    + " steps together vs " + aloneSteps + " alone");
        }
    }
}
