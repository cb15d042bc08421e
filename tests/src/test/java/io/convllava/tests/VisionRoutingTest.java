package io.convllava.tests;

import io.convllava.common.cluster.ClusterSnapshot;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRole;
import io.convllava.common.cluster.ShardPlan;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.generate.EncodedImage;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.routing.Router;
import io.convllava.coordinator.server.CoordinatorServer;
import io.convllava.coordinator.server.ImageCache;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.coordinator.server.VisionNodeImageEncoder;
import io.convllava.vision.cache.CacheStats;
import io.convllava.vision.node.VisionNode;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three vision nodes behind a coordinator: an image always reaches the node its content hashes to, which answers a
 * repeat from its embedding cache; a request's images are split over the nodes and come back in order; when a
 * node dies its images go to their next choice.
 */
class VisionRoutingTest {
    private static final Reference TINY = new Reference("tiny-convllava");

    @Test
    void repeatedImagesReachTheNodeThatCachedThemAndSurviveItsDeath() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            ServedModel model = ServedModel.load("tiny-convllava", TestCluster.TINY);
            // no embeddings kept by the coordinator: every request reaches a vision node
            CoordinatorServer coordinator = cluster.coordinator(model, config -> config.withEmbeddingCache(0));
            Map<String, VisionNode> nodes = new LinkedHashMap<>();
            for (String id : List.of("vision-a", "vision-b", "vision-c")) {
                nodes.put(id, cluster.vision(id));
            }
            cluster.llm("0-4");
            cluster.awaitPipelines(1);
            Router router = coordinator.router();
            TestCluster.await(() -> router.snapshot().members(NodeRole.VISION).size() == 3,
                    "the coordinator to see 3 vision nodes");

            // through the public API: the answer is the reference's, and the image's node encoded it
            byte[] tiny = Files.readAllBytes(TINY.image());
            String home = router.visionNodesFor(ImageCache.sha256(tiny)).get(0).nodeId();
            TINY.assertGreedyPrefix(0, Streams.collect(cluster.client().generate(
                    Streams.request(TINY.question(0), tiny, 12, false))).tokens());
            assertStats(nodes, home, 0, 1);
            TINY.assertGreedyPrefix(0, Streams.collect(cluster.client().generate(
                    Streams.request(TINY.question(0), tiny, 12, false))).tokens());
            assertStats(nodes, home, 1, 1);

            // one request of distinct images, split by node and put back in order
            List<byte[]> images = distinctImages();
            VisionNodeImageEncoder encoder = new VisionNodeImageEncoder(router, TransportOptions.DEFAULTS,
                    model.tokensPerImage(), "split");
            List<EncodedImage> first = encoder.encode(inputs(images), false);
            long nodesUsed = nodes.values().stream().filter(n -> n.cacheStats().misses() > (n.nodeId().equals(home)
                    ? 1 : 0)).count();
            assertTrue(nodesUsed >= 2, "the images should be spread over the nodes, " + nodesUsed + " used");
            List<EncodedImage> again = encoder.encode(inputs(images), false);
            for (int i = 0; i < images.size(); i++) {
                assertArrayEquals(first.get(i).embeddings().data(), again.get(i).embeddings().data(), "image " + i);
            }
            long hits = nodes.values().stream().mapToLong(n -> n.cacheStats().hits()).sum();
            assertEquals(1 + images.size(), hits, "every repeated image should be a hit on its node");

            // the image's node dies; the coordinator may not have noticed yet: its next choice serves
            float[] fromHome = encoder.encode(inputs(List.of(tiny)), false).get(0).embeddings().data();
            List<String> order = router.visionNodesFor(ImageCache.sha256(tiny)).stream().map(NodeInfo::nodeId).toList();
            assertEquals(home, order.get(0));
            nodes.get(home).close();
            CacheStats nextBefore = nodes.get(order.get(1)).cacheStats();
            List<EncodedImage> afterDeath = encoder.encode(inputs(List.of(tiny)), false);
            assertEquals(nextBefore.misses() + 1, nodes.get(order.get(1)).cacheStats().misses(),
                    "the second choice should encode the image");
            assertArrayEquals(fromHome, afterDeath.get(0).embeddings().data());
            TINY.assertGreedyPrefix(0, Streams.collect(cluster.client().generate(
                    Streams.request(TINY.question(0), tiny, 12, false))).tokens());
            assertEquals(nextBefore.hits() + 1, nodes.get(order.get(1)).cacheStats().hits(),
                    "the second choice now has it cached");
        }
    }

    @Test
    void aNodeThatIsStillListedButDeadIsSkippedForTheNextChoice() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            ServedModel model = ServedModel.load("tiny-convllava", TestCluster.TINY);
            CoordinatorServer coordinator = cluster.coordinator(model);
            VisionNode live = cluster.vision("vision-live");
            TestCluster.await(() -> coordinator.router().snapshot().members(NodeRole.VISION).size() == 1,
                    "the coordinator to see the vision node");
            // a routing view that still lists a node whose process is gone (nothing listens on its port)
            TreeMap<String, NodeInfo> members = new TreeMap<>(coordinator.router().snapshot().members());
            NodeInfo dead = NodeInfo.vision("vision-dead", TestCluster.HOST, freePort(), "tiny-convllava", "cpu");
            members.put(dead.nodeId(), dead);
            try (Router stale = new Router(model.numLayers(), TransportOptions.DEFAULTS)) {
                stale.clusterChanged(new ClusterSnapshot(1, true, members, ShardPlan.NONE));
                List<byte[]> images = distinctImages();
                List<byte[]> deadFirst = images.stream()
                        .filter(i -> stale.visionNodesFor(ImageCache.sha256(i)).get(0).nodeId().equals("vision-dead"))
                        .toList();
                assertTrue(deadFirst.size() >= 2, deadFirst.size() + " of the images hash to the dead node first");

                VisionNodeImageEncoder encoder = new VisionNodeImageEncoder(stale, TransportOptions.DEFAULTS,
                        model.tokensPerImage(), "stale");
                List<EncodedImage> encoded = encoder.encode(inputs(images), false);
                assertEquals(images.size(), live.cacheStats().misses(), "the live node encodes every image");
                List<EncodedImage> again = encoder.encode(inputs(images), false);
                for (int i = 0; i < images.size(); i++) {
                    assertArrayEquals(encoded.get(i).embeddings().data(), again.get(i).embeddings().data());
                }
                assertEquals(images.size(), live.cacheStats().hits());
                assertEquals(0, stale.inFlight("vision-dead"), "the failed call's lease is given back");
            }
        }
    }

    @Test
    void concurrentRequestsAboutOneNewImageEncodeItOnce() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            ServedModel model = ServedModel.load("tiny-convllava", TestCluster.TINY);
            CoordinatorServer coordinator = cluster.coordinator(model);
            VisionNode vision = cluster.vision("vision-only");
            cluster.llm("0-4");
            cluster.awaitPipelines(1);
            TestCluster.await(() -> coordinator.router().snapshot().members(NodeRole.VISION).size() == 1,
                    "the coordinator to see the vision node");
            byte[] tiny = Files.readAllBytes(TINY.image());
            int requests = 8;
            ExecutorService clients = Executors.newFixedThreadPool(requests);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<int[]>> answers = new ArrayList<>();
                for (int i = 0; i < requests; i++) {
                    answers.add(clients.submit(() -> {
                        start.await();
                        return Streams.collect(cluster.client().generate(
                                Streams.request(TINY.question(0), tiny, 12, false))).tokens();
                    }));
                }
                start.countDown();
                for (Future<int[]> answer : answers) {
                    TINY.assertGreedyPrefix(0, answer.get(120, TimeUnit.SECONDS));
                }
            } finally {
                clients.shutdownNow();
            }
            CacheStats stats = vision.cacheStats();
            assertEquals(1, stats.misses(), "one encode for every request about the image, " + stats);
            assertTrue(stats.hits() <= requests - 1, stats.toString());
        }
    }

    @Test
    void aRecentImageIsTakenFromTheCoordinatorWithoutAskingAVisionNode() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            ServedModel model = ServedModel.load("tiny-convllava", TestCluster.TINY);
            cluster.coordinator(model);
            VisionNode vision = cluster.vision("vision-only");
            cluster.llm("0-4");
            cluster.awaitPipelines(1);
            byte[] tiny = Files.readAllBytes(TINY.image());
            int[] first = Streams.collect(cluster.client().generate(
                    Streams.request(TINY.question(0), tiny, 12, false))).tokens();
            TINY.assertGreedyPrefix(0, first);
            assertEquals(1, vision.cacheStats().misses());
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(first, Streams.collect(cluster.client().generate(
                        Streams.request(TINY.question(0), tiny, 12, false))).tokens(), "request " + (i + 2));
            }
            assertEquals(1, vision.cacheStats().misses(), "encoded once");
            assertEquals(0, vision.cacheStats().hits(), "the repeats never reached the vision node");
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static void assertStats(Map<String, VisionNode> nodes, String home, long hits, long misses) {
        for (VisionNode node : nodes.values()) {
            CacheStats stats = node.cacheStats();
            boolean isHome = node.nodeId().equals(home);
            assertEquals(isHome ? hits : 0, stats.hits(), node.nodeId() + " hits");
            assertEquals(isHome ? misses : 0, stats.misses(), node.nodeId() + " misses");
        }
    }

    private static List<ImageInput> inputs(List<byte[]> images) {
        return images.stream().map(ImageInput::ofBytes).toList();
    }

    /** The demo model's ten sample images (256 px PNGs). */
    private static List<byte[]> distinctImages() throws Exception {
        List<byte[]> images = new ArrayList<>();
        try (Stream<Path> samples = Files.list(Fixtures.shapesModel().resolve("samples"))) {
            for (Path sample : samples.sorted().toList()) {
                images.add(Files.readAllBytes(sample));
            }
        }
        return images;
    }
}
