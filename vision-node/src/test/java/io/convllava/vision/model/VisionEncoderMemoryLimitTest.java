package io.convllava.vision.model;

import io.convllava.common.io.Npy;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The encode memory limit on the tiny fixture (256 px), with real encodes. */
class VisionEncoderMemoryLimitTest {
    private static final ModelFiles FILES = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
    private static final long MIB = 1 << 20;

    @Test
    void concurrentEncodesTogetherStayWithinTheLimit() throws Exception {
        long perImage = roundedUp(oneImageBytes());
        HostTensor pixels = Npy.read(Fixtures.file("tiny-convllava", "pixels.npy"));
        try (VisionEncoder encoder = VisionEncoder.load(FILES, "cpu", 256, 2 * perImage, line -> { })) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> callers = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    callers.add(pool.submit(() -> {
                        start.await();
                        for (int i = 0; i < 10; i++) {
                            encoder.encode(pixels);
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> caller : callers) {
                    caller.get();
                }
            } finally {
                pool.shutdownNow();
            }
            // four callers, room for two: two ran at once, never three
            assertEquals(2 * perImage, encoder.budget().peakBytes());
        }
    }

    @Test
    void aBatchThatCanNeverFitIsRefusedNamingResolutionEstimateAndLimit() {
        long perImage = roundedUp(oneImageBytes());
        try (VisionEncoder encoder = VisionEncoder.load(FILES, "cpu", 256, perImage, line -> { })) {
            assertEquals(1, encoder.imagesWithinLimit(8));
            HostTensor two = new HostTensor(new long[] {2, 3, 256, 256}, new float[2 * 3 * 256 * 256]);
            EncodeMemoryLimitException e = assertThrows(EncodeMemoryLimitException.class, () -> encoder.encode(two));
            assertEquals(String.format(java.util.Locale.ROOT, "encoding 2 images at 256 px needs an estimated %.1f MiB"
                    + " of activation memory, more than the encode memory limit of %.1f MiB: raise the limit"
                    + " (vision-node --encode-memory-limit) or send fewer images at once",
                    encoder.activationBytes(2) / (double) MIB, perImage / (double) MIB), e.getMessage());
            assertEquals(0, encoder.budget().peakBytes()); // refused before holding anything
        }
    }

    private static long oneImageBytes() {
        try (VisionEncoder encoder = VisionEncoder.load(FILES, "cpu")) {
            return encoder.activationBytes(1);
        }
    }

    private static long roundedUp(long bytes) {
        return (bytes + MIB - 1) / MIB * MIB;
    }
}
