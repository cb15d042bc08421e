package io.convllava.vision.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.convllava.common.config.ConfigLoader;
import io.convllava.common.config.PreprocessorConfig;
import io.convllava.common.io.Npy;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fixture images, decoded and preprocessed, against the reference pixels made with PIL + NumPy. */
class PreprocessorFixtureTest {
    private static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    private static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    /** The fixtures README's pixel tolerances: one 8-bit level after normalisation, and on average far less. */
    private static final double MAX_ABS_TOLERANCE = 0.016;
    private static final double MEAN_ABS_TOLERANCE = 0.001;

    static PreprocessorConfig clip(int resolution) {
        return new PreprocessorConfig(resolution, resolution, resolution, 3, 1 / 255.0, CLIP_MEAN, CLIP_STD,
                true, true, true, true, true);
    }

    /** tiny / hubtiny: 320x200 landscape padded on y, downscaled 320 -> 256; holdout: 180x300 portrait, 300 -> 384. */
    @ParameterizedTest
    @CsvSource({"tiny-convllava, 256", "hubtiny-convllava, 256", "holdout-convllava, 384"})
    void fixtureImageMatchesReferencePixels(String fixture, int resolution) throws IOException {
        RgbImage image = ImageDecoder.decode(Files.readAllBytes(Fixtures.file(fixture, "image.png")));
        ImagePreprocessor preprocessor = new ImagePreprocessor(clip(resolution));
        HostTensor pixels = preprocessor.preprocess(image);
        HostTensor reference = Npy.read(Fixtures.file(fixture, "pixels.npy")); // [1, 3, R, R]

        assertEquals(resolution, preprocessor.resolution());
        assertArrayEquals(new long[] {3, resolution, resolution}, pixels.shape());
        assertArrayEquals(new long[] {1, 3, resolution, resolution}, reference.shape());
        double[] diff = maxAndMeanAbsDiff(pixels.data(), reference.data());
        assertTrue(diff[0] <= MAX_ABS_TOLERANCE, fixture + ": max |diff| " + diff[0]);
        assertTrue(diff[1] <= MEAN_ABS_TOLERANCE, fixture + ": mean |diff| " + diff[1]);
        assertEquals(0.0, diff[0], fixture + ": PIL's resize and NumPy's float32 arithmetic are reproduced exactly");
    }

    @Test
    void batchStacksTheSingleImageTensors() throws IOException {
        RgbImage landscape = ImageDecoder.decode(Files.readAllBytes(Fixtures.file("tiny-convllava", "image.png")));
        RgbImage portrait = ImageDecoder.decode(Files.readAllBytes(Fixtures.file("holdout-convllava", "image.png")));
        ImagePreprocessor preprocessor = new ImagePreprocessor(clip(256));
        HostTensor batch = preprocessor.preprocessBatch(List.of(landscape, portrait));
        assertArrayEquals(new long[] {2, 3, 256, 256}, batch.shape());
        float[] first = preprocessor.preprocess(landscape).data();
        float[] second = preprocessor.preprocess(portrait).data();
        float[] expected = new float[first.length * 2];
        System.arraycopy(first, 0, expected, 0, first.length);
        System.arraycopy(second, 0, expected, first.length, second.length);
        assertArrayEquals(expected, batch.data());
    }

    /** The demo model's own preprocessor_config.json (256 px, CLIP constants). */
    @Test
    void demoModelConfigSquareSampleIsOnlyNormalised() throws IOException {
        ImagePreprocessor preprocessor = new ImagePreprocessor(
                ConfigLoader.loadPreprocessor(Fixtures.shapesModel().resolve("vision_tower/preprocessor_config.json")));
        assertEquals(256, preprocessor.resolution());
        Path sample = Fixtures.shapesModel().resolve("samples/sample-color-0.png");
        RgbImage image = ImageDecoder.decode(Files.readAllBytes(sample));
        assertEquals(256, image.width());
        assertEquals(256, image.height());

        float[] pixels = preprocessor.preprocess(image).data(); // [3, 256, 256]
        int plane = 256 * 256;
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < 3; c++) {
                float expected = ((image.rgb()[p * 3 + c] & 0xFF) / 255f - CLIP_MEAN[c]) / CLIP_STD[c];
                assertEquals(expected, pixels[c * plane + p], "channel " + c + " pixel " + p);
            }
        }
    }

    /** Same constants and resolution as the tiny fixture, so its reference pixels apply. */
    @Test
    void demoModelConfigReproducesTinyReference() throws IOException {
        ImagePreprocessor preprocessor = new ImagePreprocessor(
                ConfigLoader.loadPreprocessor(Fixtures.shapesModel().resolve("vision_tower/preprocessor_config.json")));
        RgbImage image = ImageDecoder.decode(Files.readAllBytes(Fixtures.file("tiny-convllava", "image.png")));
        HostTensor reference = Npy.read(Fixtures.file("tiny-convllava", "pixels.npy"));
        assertArrayEquals(reference.data(), preprocessor.preprocess(image).data());
    }

    @Test
    void padToSquareCentresOnTheMeanColour() {
        ImagePreprocessor preprocessor = new ImagePreprocessor(clip(256));
        RgbImage portrait = RgbImage.filled(3, 6, 10, 20, 30);
        RgbImage square = preprocessor.padToSquare(portrait);
        assertEquals(6, square.width());
        assertEquals(6, square.height());
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                boolean inside = x >= 1 && x < 4; // (6 - 3) // 2 = 1
                assertEquals(inside ? 10 : 122, square.sample(x, y, 0), "red at " + x + "," + y);
                assertEquals(inside ? 20 : 116, square.sample(x, y, 1), "green at " + x + "," + y);
                assertEquals(inside ? 30 : 104, square.sample(x, y, 2), "blue at " + x + "," + y);
            }
        }
        RgbImage alreadySquare = RgbImage.filled(4, 4, 1, 2, 3);
        assertEquals(alreadySquare, preprocessor.padToSquare(alreadySquare));
    }

    private static double[] maxAndMeanAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double max = 0;
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            max = Math.max(max, d);
            sum += d;
        }
        return new double[] {max, sum / a.length};
    }

    @Test
    void withoutPadAspectTheProcessorAloneResizesAndCentreCrops() throws IOException {
        RgbImage image = ImageDecoder.decode(Files.readAllBytes(Fixtures.file("tiny-convllava", "image.png")));
        HostTensor cropped = new ImagePreprocessor(clip(256), false).preprocess(image); // 320x200 -> 409x256 -> crop
        RgbImage resized = PilResize.bicubic(image, 409, 256);
        RgbImage expected = ClipImageTransforms.centerCrop(resized, 256, 256);
        HostTensor reference = new ImagePreprocessor(clip(256), true).preprocess(expected); // square: no padding
        assertArrayEquals(reference.data(), cropped.data());
    }

    @Test
    void theModelsAspectSettingChoosesThePadding() {
        ModelFiles tiny = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        assertEquals("pad", tiny.llmConfig().imageAspectRatio());
        RgbImage wide = RgbImage.filled(40, 20, 255, 0, 0);
        assertArrayEquals(new ImagePreprocessor(tiny.preprocessorConfig(), true).preprocess(wide).data(),
                ImagePreprocessor.forModel(tiny).preprocess(wide).data());
    }
}
