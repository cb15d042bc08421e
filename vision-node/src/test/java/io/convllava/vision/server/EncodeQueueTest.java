package io.convllava.vision.server;

import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.testing.Fixtures;
import io.convllava.vision.image.ImageDecoder;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.model.EncodedImages;
import io.convllava.vision.model.VisionEncoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static io.convllava.vision.server.BatchedEncodes.assertClose;
import static io.convllava.vision.server.BatchedEncodes.batchOfOne;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The encode queue on the tiny fixture: what waits is stacked into one call, up to the batch size. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EncodeQueueTest {
    private VisionEncoder encoder;
    private final List<HostTensor> pixels = new ArrayList<>();

    @BeforeAll
    void load() throws IOException {
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        encoder = VisionEncoder.load(files, "cpu", line -> { });
        ImagePreprocessor preprocessor = new ImagePreprocessor(files.preprocessorConfig());
        for (Path image : List.of(Fixtures.file("tiny-convllava", "image.png"),
                Fixtures.file("holdout-convllava", "image.png"),
                Fixtures.shapesModel().resolve("samples/sample-count-0.png"))) {
            pixels.add(preprocessor.preprocess(ImageDecoder.decode(Files.readAllBytes(image))));
        }
    }

    @AfterAll
    void close() {
        encoder.close();
    }

    @Test
    void imagesWaitingWhenTheQueueStartsGoIntoOneCall() {
        try (EncodeQueue queue = new EncodeQueue(encoder, 4)) {
            List<CompletableFuture<ImageEncoding>> results = submitAll(queue);
            queue.start();
            for (int i = 0; i < results.size(); i++) {
                EncodedImages alone = encoder.encode(batchOfOne(pixels.get(i)));
                ImageEncoding batched = results.get(i).join();
                assertArrayEquals(new long[] {16, 64}, batched.embeddings().shape());
                assertArrayEquals(new long[] {16, 96}, batched.features().shape());
                assertClose("embeddings of image " + i, alone.embeddings().data(), batched.embeddings().data());
                assertClose("features of image " + i, alone.features().data(), batched.features().data());
            }
            assertEquals(1, queue.batches());
            assertEquals(3, queue.images());
        }
    }

    @Test
    void aBatchTakesAtMostMaxBatchImages() {
        try (EncodeQueue queue = new EncodeQueue(encoder, 2)) {
            List<CompletableFuture<ImageEncoding>> results = submitAll(queue);
            queue.start();
            results.forEach(CompletableFuture::join);
            assertEquals(2, queue.batches());
            assertEquals(3, queue.images());
        }
    }

    @Test
    void aCancelledImageIsSkipped() {
        try (EncodeQueue queue = new EncodeQueue(encoder, 4)) {
            List<CompletableFuture<ImageEncoding>> results = submitAll(queue);
            results.get(1).cancel(false);
            queue.start();
            results.get(0).join();
            results.get(2).join();
            assertEquals(2, queue.images());
        }
    }

    @Test
    void closingFailsTheImagesStillWaiting() {
        EncodeQueue queue = new EncodeQueue(encoder, 4);
        CompletableFuture<ImageEncoding> waiting = queue.submit(pixels.get(0));
        queue.close();
        CompletionException e = assertThrows(CompletionException.class, waiting::join);
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(queue.submit(pixels.get(0)).isCompletedExceptionally(), "a closed queue takes nothing");
    }

    private List<CompletableFuture<ImageEncoding>> submitAll(EncodeQueue queue) {
        List<CompletableFuture<ImageEncoding>> results = new ArrayList<>();
        for (HostTensor p : pixels) {
            results.add(queue.submit(p));
        }
        return results;
    }
}
