package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.checkpoint.CheckpointException;
import io.convllava.common.config.VisionConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvNextTowerTest {
    /** Three stages, patch 2: downsample factor 8. */
    private static final VisionConfig CONFIG =
            new VisionConfig(3, 2, new int[] {1, 2, 1}, new int[] {4, 8, 12}, "gelu", 32);

    @Test
    void nonSquareBatchMatchesLoopByLoopReference() {
        // tokens: 2 x 5, so a transposed or column-major order would not match
        assertMatchesReference(CONFIG, 2, 16, 40);
    }

    @Test
    void blocksOnBandsOfRowsMatchTheReference() {
        // one stage, patch 1: a 2 x 16 x 600 x 448 map, whose MLP runs in 5 bands of rows (the last one short)
        VisionConfig large = new VisionConfig(3, 1, new int[] {1}, new int[] {16}, "gelu", 600);
        assertEquals(146, ConvNextLayer.rowsPerBand(2, 16, 448, 4));
        assertMatchesReference(large, 2, 600, 448);
    }

    private static void assertMatchesReference(VisionConfig config, int batch, int height, int width) {
        InMemoryTensorSource weights = new InMemoryTensorSource(7);
        NaiveConvNext.randomWeights(config, weights);
        float[] pixels = new float[batch * 3 * height * width];
        Random random = new Random(11);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }

        float[] actual;
        long[] shape;
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            ConvNextTower tower = ConvNextTower.load(config,
                    new WeightLoader(weights, manager, Placement.parse("cpu")), line -> { });
            NDArray tokens = tower.forward(manager.create(pixels, new Shape(batch, 3, height, width)));
            actual = tokens.toFloatArray();
            shape = tokens.getShape().getShape();
        }

        int f = config.downsampleFactor();
        int channels = config.outputChannels();
        assertArrayEquals(new long[] {batch, (long) (height / f) * (width / f), channels}, shape);
        NaiveConvNext reference = new NaiveConvNext(config, weights);
        int perImage = 3 * height * width;
        int tokensPerImage = (height / f) * (width / f) * channels;
        for (int b = 0; b < batch; b++) {
            double[] image = new double[perImage];
            for (int i = 0; i < perImage; i++) {
                image[i] = pixels[b * perImage + i];
            }
            double[] expected = reference.tokens(image, height, width);
            double maxRef = 0;
            double maxDiff = 0;
            for (int i = 0; i < tokensPerImage; i++) {
                maxRef = Math.max(maxRef, Math.abs(expected[i]));
                maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[b * tokensPerImage + i]));
            }
            assertTrue(maxDiff <= 1e-4 * maxRef, "image " + b + ": max |diff| " + maxDiff + ", max |ref| " + maxRef);
        }
    }

    @Test
    void reportsEachStageWhileLoading() {
        InMemoryTensorSource weights = new InMemoryTensorSource(3);
        NaiveConvNext.randomWeights(CONFIG, weights);
        List<String> progress = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            ConvNextTower.load(CONFIG, new WeightLoader(weights, manager, Placement.parse("cpu")), progress::add);
        }
        assertEquals(List.of("loading vision tower: stage 1/3", "loading vision tower: stage 2/3",
                "loading vision tower: stage 3/3"), progress);
    }

    @Test
    void aTensorOfTheWrongShapeIsNamed() {
        InMemoryTensorSource weights = new InMemoryTensorSource(5);
        NaiveConvNext.randomWeights(CONFIG, weights);
        VisionConfig wider = new VisionConfig(3, 2, new int[] {1, 2, 1}, new int[] {4, 8, 16}, "gelu", 32);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> ConvNextTower.load(wider,
                    new WeightLoader(weights, manager, Placement.parse("cpu")), line -> { }));
            assertTrue(e.getMessage().contains("encoder.stages.2.downsampling_layer.1.weight"), e.getMessage());
            assertTrue(e.getMessage().contains("in-memory"), e.getMessage());
        }
    }
}
