package io.convllava.vision.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.checkpoint.CheckpointException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProjectorTest {
    private static final Path CONFIG_FILE = Path.of("/models/some-llava/config.json");
    private static final int MM_HIDDEN = 6;
    private static final int HIDDEN = 5;
    private static final int TOKENS = 3;

    @Test
    void unknownTypeNamesFieldValueAndConfigFile() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            WeightLoader none = new WeightLoader(new InMemoryTensorSource(1), manager, Placement.parse("cpu"));
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> Projector.load("qformer", MM_HIDDEN, HIDDEN, none, CONFIG_FILE));
            assertTrue(e.getMessage().contains("mm_projector_type"), e.getMessage());
            assertTrue(e.getMessage().contains("'qformer'"), e.getMessage());
            assertTrue(e.getMessage().contains(CONFIG_FILE.toString()), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"linear", "mlp1x_gelu", "mlp2x_gelu", "mlp3x_gelu"})
    void matchesLinearsWithExactGeluBetween(String type) {
        InMemoryTensorSource weights = new InMemoryTensorSource(type.hashCode());
        int depth = type.equals("linear") ? 1 : type.charAt(3) - '0';
        String[] prefixes = new String[depth];
        for (int i = 0; i < depth; i++) {
            prefixes[i] = type.equals("linear") ? "model.mm_projector" : "model.mm_projector." + (2 * i);
            int in = i == 0 ? MM_HIDDEN : HIDDEN;
            weights.put(prefixes[i] + ".weight", 0, 1 / Math.sqrt(in), HIDDEN, in);
            weights.put(prefixes[i] + ".bias", 0, 0.1, HIDDEN);
        }
        float[] features = new float[TOKENS * MM_HIDDEN];
        Random random = new Random(2);
        for (int i = 0; i < features.length; i++) {
            features[i] = (float) random.nextGaussian();
        }

        float[] actual;
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Projector projector = Projector.load(type, MM_HIDDEN, HIDDEN,
                    new WeightLoader(weights, manager, Placement.parse("cpu")), CONFIG_FILE);
            var out = projector.forward(manager.create(features, new Shape(1, TOKENS, MM_HIDDEN)));
            assertArrayEquals(new long[] {1, TOKENS, HIDDEN}, out.getShape().getShape());
            actual = out.toFloatArray();
        }

        for (int t = 0; t < TOKENS; t++) {
            double[] x = new double[MM_HIDDEN];
            for (int k = 0; k < MM_HIDDEN; k++) {
                x[k] = features[t * MM_HIDDEN + k];
            }
            for (int i = 0; i < depth; i++) {
                if (i > 0) {
                    for (int k = 0; k < x.length; k++) {
                        x[k] = NaiveConvNext.gelu(x[k]);
                    }
                }
                x = linear(x, weights.get(prefixes[i] + ".weight"), weights.get(prefixes[i] + ".bias"));
            }
            for (int k = 0; k < HIDDEN; k++) {
                assertEquals(x[k], actual[t * HIDDEN + k], 1e-5, type + " token " + t + " channel " + k);
            }
        }
    }

    private static double[] linear(double[] x, float[] weight, float[] bias) {
        double[] y = new double[bias.length];
        for (int o = 0; o < y.length; o++) {
            double acc = bias[o];
            for (int k = 0; k < x.length; k++) {
                acc += weight[o * x.length + k] * x[k];
            }
            y[o] = acc;
        }
        return y;
    }
}
