package io.convllava.vision.server;

import com.google.protobuf.ByteString;
import io.convllava.common.client.EncodedBatch;
import io.convllava.common.client.RemoteImageEncoder;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.EncodeRequest;
import io.convllava.proto.v1.EncodeResponse;
import io.convllava.proto.v1.VisionNodeGrpc;
import io.convllava.vision.cache.CacheStats;
import io.convllava.vision.cache.EmbeddingCache;
import io.convllava.vision.image.ImageDecoder;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.image.RgbImage;
import io.convllava.vision.model.EncodedImages;
import io.convllava.vision.model.VisionEncoder;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

import static io.convllava.vision.server.BatchedEncodes.assertClose;
import static io.convllava.vision.server.BatchedEncodes.batchOfOne;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A vision node on real Netty loopback with the tiny fixture, compared with encoding in this process. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VisionNodeServiceTest {
    private static final VisionServingOptions BATCHES_OF_2 = VisionServingOptions.DEFAULTS.withMaxBatch(2);
    private ModelFiles files;
    private VisionEncoder encoder;
    private ImagePreprocessor preprocessor;
    private VisionNodeServer server;
    private ManagedChannel channel;
    private RemoteImageEncoder client;
    private byte[] tinyPng;
    private byte[] holdoutPng;

    @BeforeAll
    void start() throws IOException {
        files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        encoder = VisionEncoder.load(files, "cpu", line -> { });
        preprocessor = new ImagePreprocessor(files.preprocessorConfig());
        // batches of 2: a 3-image request takes two encoder calls
        server = VisionNodeServer.start("127.0.0.1", 0, preprocessor, encoder, TransportOptions.DEFAULTS,
                BATCHES_OF_2);
        channel = Channels.forAddress(server.address(), TransportOptions.DEFAULTS);
        client = new RemoteImageEncoder(channel, TransportOptions.DEFAULTS);
        tinyPng = Files.readAllBytes(Fixtures.file("tiny-convllava", "image.png"));
        holdoutPng = Files.readAllBytes(Fixtures.file("holdout-convllava", "image.png"));
    }

    @AfterAll
    void stop() {
        channel.shutdownNow();
        server.close();
        encoder.close();
    }

    @Test
    void encodingOverTheWireEqualsEncodingInProcess() {
        EncodedBatch batch = client.encode("req-1", List.of(tinyPng, holdoutPng, tinyPng), true);

        assertEquals(16, batch.tokensPerImage());
        assertEquals(256, batch.resolution());
        assertEquals(new EncodedBatch.Size(320, 200), batch.sizes().get(0));
        byte[][] files = {tinyPng, holdoutPng, tinyPng};
        for (int i = 0; i < files.length; i++) {
            RgbImage image = ImageDecoder.decode(files[i]);
            assertEquals(new EncodedBatch.Size(image.width(), image.height()), batch.sizes().get(i));
            EncodedImages local = encoder.encode(batchOfOne(preprocessor.preprocess(image)));
            assertArrayEquals(new long[]{16, 64}, batch.embeddings().get(i).shape());
            assertClose("embeddings of image " + i, local.embeddings().data(), batch.embeddings().get(i).data());
            assertArrayEquals(new long[]{16, 96}, batch.features().get(i).shape());
            assertClose("features of image " + i, local.features().data(), batch.features().get(i).data());
        }
    }

    @Test
    void featuresOnlyWhenAsked() {
        EncodedBatch batch = client.encode("req-2", List.of(tinyPng), false);
        assertEquals(1, batch.embeddings().size());
        assertTrue(batch.features().isEmpty());
    }

    @Test
    void badImageBytesAreInvalidArgumentNamingTheImage() {
        byte[] truncated = Arrays.copyOf(tinyPng, 100);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> client.encode("req-3", List.of(tinyPng, truncated), false));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("image 1: "), e.getStatus().getDescription());

        StatusRuntimeException garbage = assertThrows(StatusRuntimeException.class,
                () -> client.encode("req-4", List.of("not an image".getBytes()), false));
        assertEquals(Status.Code.INVALID_ARGUMENT, garbage.getStatus().getCode());
        assertTrue(garbage.getStatus().getDescription().startsWith("image 0: "));

        // the node keeps serving
        assertEquals(1, client.encode("req-5", List.of(tinyPng), false).embeddings().size());
    }

    @Test
    void batchesShrinkToTheEncodeMemoryLimit() throws IOException {
        long oneImage = roundedUpToMib(encoder.activationBytes(1)); // room for one image at a time, not two
        try (VisionEncoder small = VisionEncoder.load(files, "cpu", 256, oneImage, line -> { })) {
            EncodedBatch batch = withServer(small, c -> c.encode("req-7", List.of(tinyPng, holdoutPng, tinyPng),
                    false));
            EncodedBatch expected = client.encode("req-8", List.of(tinyPng, holdoutPng, tinyPng), false);
            for (int i = 0; i < 3; i++) {
                assertClose("embeddings of image " + i, expected.embeddings().get(i).data(),
                        batch.embeddings().get(i).data());
            }
        }
    }

    @Test
    void anImageOverTheEncodeMemoryLimitIsAFailedPrecondition() throws IOException {
        long tooSmall = encoder.activationBytes(1) - 1;
        try (VisionEncoder small = VisionEncoder.load(files, "cpu", 256, tooSmall, line -> { })) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> withServer(small, c -> c.encode("req-9", List.of(tinyPng), false)));
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().startsWith("encoding 1 image at 256 px needs an estimated "),
                    e.getStatus().getDescription());
            assertTrue(e.getStatus().getDescription().contains("more than the encode memory limit of "),
                    e.getStatus().getDescription());
        }
    }

    @Test
    void emptyRequestIsInvalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> client.encode("req-6", List.of(), false));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("EncodeRequest.images is empty", e.getStatus().getDescription());
    }

    @Test
    void aRepeatedImageIsAnsweredFromTheCacheWithIdenticalEmbeddings() throws IOException {
        try (Node node = new Node(encoder, VisionServingOptions.DEFAULTS)) {
            EncodedBatch first = node.client.encode("req-10", List.of(tinyPng), false);
            assertEquals(List.of(false), first.cached());
            assertEquals(new CacheStats(0, 1, 0, 1, node.server.cacheStats().bytes(), EmbeddingCache.DEFAULT_MAX_BYTES),
                    node.server.cacheStats());

            EncodedBatch again = node.client.encode("req-11", List.of(holdoutPng, tinyPng), false);
            assertEquals(List.of(false, true), again.cached());
            assertArrayEquals(first.embeddings().get(0).data(), again.embeddings().get(1).data());
            assertArrayEquals(first.embeddings().get(0).shape(), again.embeddings().get(1).shape());
            assertEquals(first.sizes().get(0), again.sizes().get(1));
            CacheStats stats = node.server.cacheStats();
            assertEquals(1, stats.hits());
            assertEquals(2, stats.misses());
            assertEquals(2, node.server.service().imagesEncoded(), "the cached image skipped the tower");

            EncodeResponse raw = VisionNodeGrpc.newBlockingStub(node.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .encode(EncodeRequest.newBuilder().addImages(ByteString.copyFrom(tinyPng)).build());
            assertEquals(encoder.revision(), raw.getModelRevision());
            assertEquals(List.of(true), raw.getCachedList());
        }
    }

    @Test
    void featuresAskedForAfterACachedEncodeWithoutThemAreEncodedAgainThenCached() throws IOException {
        try (Node node = new Node(encoder, VisionServingOptions.DEFAULTS)) {
            node.client.encode("req-12", List.of(tinyPng), false);
            EncodedBatch withFeatures = node.client.encode("req-13", List.of(tinyPng), true);
            assertEquals(List.of(false), withFeatures.cached());
            EncodedBatch cached = node.client.encode("req-14", List.of(tinyPng), true);
            assertEquals(List.of(true), cached.cached());
            assertArrayEquals(withFeatures.features().get(0).data(), cached.features().get(0).data());
            assertEquals(List.of(true), node.client.encode("req-15", List.of(tinyPng), false).cached());
        }
    }

    @Test
    void theCacheDisabledEncodesEveryTime() throws IOException {
        try (Node node = new Node(encoder, VisionServingOptions.DEFAULTS.withEmbeddingCacheBytes(0))) {
            node.client.encode("req-16", List.of(tinyPng), false);
            assertEquals(List.of(false), node.client.encode("req-17", List.of(tinyPng), false).cached());
            assertEquals(2, node.server.service().imagesEncoded());
            assertEquals(new CacheStats(0, 2, 0, 0, 0, 0), node.server.cacheStats());
        }
    }

    @Test
    void concurrentRequestsEachGetTheirOwnEmbeddingsExactly() throws Exception {
        List<byte[]> pool = distinctImages();
        // batches of 1 and no cache: every image of every request goes through the tower, and bit for bit as alone
        try (Node node = new Node(encoder, VisionServingOptions.DEFAULTS.withMaxBatch(1).withEmbeddingCacheBytes(0))) {
            List<EncodedBatch> alone = new ArrayList<>();
            for (byte[] image : pool) {
                alone.add(node.client.encode("alone", List.of(image), true));
            }
            int threads = 8;
            int requestsPerThread = 4;
            ExecutorService clients = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    done.add(clients.submit(() -> {
                        for (int r = 0; r < requestsPerThread; r++) {
                            List<Integer> picked = pick(thread * requestsPerThread + r, pool.size());
                            List<byte[]> files = picked.stream().map(pool::get).toList();
                            EncodedBatch got = node.client.encode("t" + thread + "-" + r, files, true);
                            for (int k = 0; k < picked.size(); k++) {
                                EncodedBatch expected = alone.get(picked.get(k));
                                String what = "thread " + thread + " request " + r + " image " + k;
                                assertArrayEquals(expected.embeddings().get(0).data(), got.embeddings().get(k).data(),
                                        what);
                                assertArrayEquals(expected.features().get(0).data(), got.features().get(k).data(),
                                        what);
                                assertEquals(expected.sizes().get(0), got.sizes().get(k), what);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                clients.shutdownNow();
            }
        }
    }

    @Test
    void concurrentRequestsShareBatches() throws Exception {
        List<byte[]> pool = distinctImages();
        try (Node node = new Node(encoder, VisionServingOptions.DEFAULTS.withMaxBatch(4).withEmbeddingCacheBytes(0))) {
            List<EncodedBatch> alone = new ArrayList<>();
            for (byte[] image : pool) {
                alone.add(node.client.encode("alone", List.of(image), false));
            }
            List<CompletableFuture<EncodedBatch>> calls = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                calls.add(node.client.encodeAsync("async-" + i, List.of(pool.get(i % pool.size())), List.of(), false));
            }
            for (int i = 0; i < calls.size(); i++) {
                assertClose("request " + i, alone.get(i % pool.size()).embeddings().get(0).data(),
                        calls.get(i).get(60, TimeUnit.SECONDS).embeddings().get(0).data());
            }
            VisionNodeService service = node.server.service();
            assertEquals(pool.size() + 12, service.imagesEncoded());
            assertTrue(service.encodeBatches() <= service.imagesEncoded());
        }
    }

    @Test
    void errorsNameImagesByTheCallersNumbers() {
        byte[] truncated = Arrays.copyOf(tinyPng, 100);
        CompletionException failed = assertThrows(CompletionException.class, () -> client.encodeAsync("req-18",
                List.of(tinyPng, truncated), List.of(5, 9), false).join());
        StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, failed.getCause());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("image 9: "), e.getStatus().getDescription());

        StatusRuntimeException mismatch = assertThrows(StatusRuntimeException.class, () -> VisionNodeGrpc
                .newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).encode(EncodeRequest.newBuilder()
                        .addImages(ByteString.copyFrom(tinyPng)).addImageNumbers(1).addImageNumbers(2).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, mismatch.getStatus().getCode());
        assertEquals("EncodeRequest.image_numbers has 2 entries for 1 images: give one per image, or none",
                mismatch.getStatus().getDescription());
    }

    /** Calls a second node serving {@code other} (batches of up to 2). */
    private EncodedBatch withServer(VisionEncoder other, Function<RemoteImageEncoder, EncodedBatch> call)
            throws IOException {
        try (Node node = new Node(other, BATCHES_OF_2)) {
            return call.apply(node.client);
        }
    }

    /** The fixtures' images and the demo model's samples: 12 distinct real images of several sizes. */
    private List<byte[]> distinctImages() throws IOException {
        List<byte[]> images = new ArrayList<>(List.of(tinyPng, holdoutPng));
        try (Stream<Path> samples = Files.list(Fixtures.shapesModel().resolve("samples"))) {
            for (Path sample : samples.sorted().toList()) {
                images.add(Files.readAllBytes(sample));
            }
        }
        return images;
    }

    /** One to three of the pool's images for request {@code n}, repeats allowed. */
    private static List<Integer> pick(int n, int pool) {
        List<Integer> picked = new ArrayList<>();
        for (int k = 0; k <= n % 3; k++) {
            picked.add((n * 7 + k * 5) % pool);
        }
        return picked;
    }

    /** A node of its own (own cache and counters) on loopback, and a client for it. */
    private final class Node implements AutoCloseable {
        final VisionNodeServer server;
        final ManagedChannel channel;
        final RemoteImageEncoder client;

        Node(VisionEncoder encoder, VisionServingOptions options) throws IOException {
            server = VisionNodeServer.start("127.0.0.1", 0, preprocessor, encoder, TransportOptions.DEFAULTS, options);
            channel = Channels.forAddress(server.address(), TransportOptions.DEFAULTS);
            client = new RemoteImageEncoder(channel, TransportOptions.DEFAULTS);
        }

        @Override
        public void close() {
            channel.shutdownNow();
            server.close();
        }
    }

    private static long roundedUpToMib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20 << 20;
    }
}
