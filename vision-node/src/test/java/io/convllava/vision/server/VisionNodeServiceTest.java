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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A vision node on real Netty loopback with the tiny fixture, compared with encoding in this process. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VisionNodeServiceTest {
    private VisionEncoder encoder;
    private ImagePreprocessor preprocessor;
    private VisionNodeServer server;
    private ManagedChannel channel;
    private RemoteImageEncoder client;
    private byte[] tinyPng;
    private byte[] holdoutPng;

    @BeforeAll
    void start() throws IOException {
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
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
    void emptyRequestIsInvalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> client.encode("req-6", List.of(), false));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("EncodeRequest.images is empty", e.getStatus().getDescription());
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
