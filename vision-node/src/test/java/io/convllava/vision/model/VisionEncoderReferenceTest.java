package io.convllava.vision.model;

import io.convllava.common.io.Npy;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The encoder on the three reference fixtures, fed the reference pixels (fixture README tolerances). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VisionEncoderReferenceTest {
    private final Map<String, VisionEncoder> encoders = new HashMap<>();
    private final Map<String, List<String>> progress = new HashMap<>();

    @AfterAll
    void closeEncoders() {
        encoders.values().forEach(VisionEncoder::close);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-convllava", "hubtiny-convllava", "holdout-convllava"})
    void featuresAndEmbeddingsMatchTheReference(String fixture) {
        VisionEncoder encoder = encoder(fixture);
        HostTensor pixels = Npy.read(Fixtures.file(fixture, "pixels.npy"));
        HostTensor features = Npy.read(Fixtures.file(fixture, "vision-features.npy"));
        HostTensor projected = Npy.read(Fixtures.file(fixture, "projected.npy"));

        EncodedImages out = encoder.encode(pixels);

        assertEquals((int) features.dim(1), encoder.tokensPerImage());
        assertEquals((int) pixels.dim(2), encoder.resolution());
        assertClose(fixture + " features", features, out.features());
        assertClose(fixture + " embeddings", projected, out.embeddings());
    }

    @Test
    void holdoutHas36TokensAt384Pixels() {
        VisionEncoder encoder = encoder("holdout-convllava");
        assertEquals(384, encoder.resolution());
        assertEquals(36, encoder.tokensPerImage());
    }

    @Test
    void loadingReportsEveryStage() {
        encoder("tiny-convllava");
        List<String> lines = progress.get("tiny-convllava");
        for (int s = 1; s <= 5; s++) {
            assertTrue(lines.contains("loading vision tower: stage " + s + "/5"), lines.toString());
        }
    }

    @Test
    void aBatchEqualsSingleEncodes() {
        VisionEncoder encoder = encoder("tiny-convllava");
        HostTensor first = Npy.read(Fixtures.file("tiny-convllava", "pixels.npy"));
        HostTensor second = Npy.read(Fixtures.file("holdout-convllava", "pixels.npy")); // 384 px: crop to 256
        HostTensor secondCropped = centreCrop(second, encoder.resolution());

        EncodedImages batch = encoder.encode(stack(first, secondCropped));
        EncodedImages alone0 = encoder.encode(first);
        EncodedImages alone1 = encoder.encode(secondCropped);

        assertArrayEquals(new long[] {2, 16, 96}, batch.features().shape());
        assertArrayEquals(new long[] {2, 16, 64}, batch.embeddings().shape());
        assertClose("batch[0] features", alone0.features(), slice(batch.features(), 0));
        assertClose("batch[1] features", alone1.features(), slice(batch.features(), 1));
        assertClose("batch[0] embeddings", alone0.embeddings(), slice(batch.embeddings(), 0));
        assertClose("batch[1] embeddings", alone1.embeddings(), slice(batch.embeddings(), 1));
    }

    @Test
    void concurrentCallersGetTheSameAnswerAsOne() throws Exception {
        VisionEncoder encoder = encoder("tiny-convllava");
        HostTensor pixels = Npy.read(Fixtures.file("tiny-convllava", "pixels.npy"));
        EncodedImages expected = encoder.encode(pixels);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<EncodedImages>> results = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                results.add(pool.submit(() -> encoder.encode(pixels)));
            }
            for (Future<EncodedImages> result : results) {
                assertClose("concurrent embeddings", expected.embeddings(), result.get().embeddings());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void encodeLeavesNothingInTheWeightsManager() {
        VisionEncoder encoder = encoder("tiny-convllava");
        HostTensor pixels = Npy.read(Fixtures.file("tiny-convllava", "pixels.npy"));
        int before = encoder.weightsManager().getManagedArrays().size();
        encoder.encode(pixels);
        encoder.encode(pixels);
        assertEquals(before, encoder.weightsManager().getManagedArrays().size());
    }

    @Test
    void rejectsPixelsOfTheWrongResolution() {
        VisionEncoder encoder = encoder("tiny-convllava");
        HostTensor wrong = new HostTensor(new long[] {1, 3, 128, 128}, new float[3 * 128 * 128]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> encoder.encode(wrong));
        assertTrue(e.getMessage().contains("[1, 3, 128, 128]"), e.getMessage());
    }

    private VisionEncoder encoder(String fixture) {
        return encoders.computeIfAbsent(fixture, name -> {
            List<String> lines = new ArrayList<>();
            progress.put(name, lines);
            return VisionEncoder.load(modelFiles(name), "cpu", lines::add);
        });
    }

    private static ModelFiles modelFiles(String fixture) {
        return switch (fixture) {
            case "tiny-convllava" -> ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
            case "hubtiny-convllava" -> ModelFiles.resolve("ConvLLaVA/ConvLLaVA-sft-tiny", Fixtures.hubtinyCache(), null);
            case "holdout-convllava" -> ModelFiles.resolve("ConvLLaVA/ConvLLaVA-sft-384", Fixtures.holdoutCache(), null);
            default -> throw new IllegalArgumentException(fixture);
        };
    }

    /** max |diff| <= 1e-4 * max |ref|, the fixture README's tolerance for features and embeddings. */
    private static void assertClose(String what, HostTensor expected, HostTensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double maxRef = 0;
        double maxDiff = 0;
        for (int i = 0; i < expected.data().length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected.data()[i]));
            maxDiff = Math.max(maxDiff, Math.abs(expected.data()[i] - actual.data()[i]));
        }
        assertTrue(maxRef > 0, what + ": reference is all zeros");
        assertTrue(maxDiff <= 1e-4 * maxRef, what + ": max |diff| " + maxDiff + " > 1e-4 * max |ref| " + maxRef);
    }

    private static HostTensor stack(HostTensor a, HostTensor b) {
        float[] data = Arrays.copyOf(a.data(), a.data().length + b.data().length);
        System.arraycopy(b.data(), 0, data, a.data().length, b.data().length);
        long[] shape = a.shape().clone();
        shape[0] = 2;
        return new HostTensor(shape, data);
    }

    private static HostTensor slice(HostTensor batch, int index) {
        int per = batch.data().length / (int) batch.dim(0);
        long[] shape = batch.shape().clone();
        shape[0] = 1;
        return new HostTensor(shape, Arrays.copyOfRange(batch.data(), index * per, (index + 1) * per));
    }

    /** [1, 3, S, S] -> [1, 3, r, r] from the centre: a second, different but realistic image. */
    private static HostTensor centreCrop(HostTensor image, int r) {
        int s = (int) image.dim(2);
        int off = (s - r) / 2;
        float[] out = new float[3 * r * r];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < r; y++) {
                System.arraycopy(image.data(), (c * s + y + off) * s + off, out, (c * r + y) * r, r);
            }
        }
        return new HostTensor(new long[] {1, 3, r, r}, out);
    }
}
