package io.convllava.vision.server;

import io.convllava.common.client.RemoteImageEncoder;

import io.convllava.common.client.EncodedBatch;

import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
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
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A vision node on real Netty loopback with the tiny fixture, compared with encoding in this process. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VisionNodeServiceTest {
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
        server = VisionNodeServer.start("127.0.0.1", 0, preprocessor, encoder, TransportOptions.DEFAULTS, 2);
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
            EncodedImages local = encoder.encode(batched(preprocessor.preprocess(image)));
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

    /** Calls a second node serving {@code other} (batches of up to 2). */
    private EncodedBatch withServer(VisionEncoder other, Function<RemoteImageEncoder, EncodedBatch> call)
            throws IOException {
        try (VisionNodeServer node = VisionNodeServer.start("127.0.0.1", 0, preprocessor, other,
                TransportOptions.DEFAULTS, 2)) {
            ManagedChannel otherChannel = Channels.forAddress(node.address(), TransportOptions.DEFAULTS);
            try {
                return call.apply(new RemoteImageEncoder(otherChannel, TransportOptions.DEFAULTS));
            } finally {
                otherChannel.shutdownNow();
            }
        }
    }

    private static long roundedUpToMib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20 << 20;
    }

    private static HostTensor batched(HostTensor chw) {
        long[] shape = new long[4];
        shape[0] = 1;
        System.arraycopy(chw.shape(), 0, shape, 1, 3);
        return new HostTensor(shape, chw.data());
    }

    /** Same inputs, but a batch of 2 may take other kernels than a batch of 1: allow float32 rounding. */
    private static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= 1e-5 * Math.max(1, scale), what + ": max |diff| " + worst + " (scale " + scale + ")");
    }
}
