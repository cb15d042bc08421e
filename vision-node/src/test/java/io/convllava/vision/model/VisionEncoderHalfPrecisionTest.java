package io.convllava.vision.model;

import io.convllava.common.model.ComputeTarget;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.io.Npy;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The "gpu" path's float16 weights and activations, exercised on the CPU (no GPU in CI): same code, only the
 * device differs. Float16 keeps ~3 significant digits, so the bound is looser than the float32 one
 * (measured: 1e-3 of max |ref| on tiny-convllava).
 */
class VisionEncoderHalfPrecisionTest {

    @Test
    void float16WeightsAndActivationsStayCloseToTheReference() {
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        HostTensor pixels = Npy.read(Fixtures.file("tiny-convllava", "pixels.npy"));
        HostTensor projected = Npy.read(Fixtures.file("tiny-convllava", "projected.npy"));
        Placement half = Placement.of(ComputeTarget.CPU.withPrecision(ComputeTarget.Precision.FLOAT16));

        EncodedImages out;
        try (TensorSource tower = files.openVisionWeights();
             TensorSource llm = files.openLlmWeights();
             VisionEncoder encoder = VisionEncoder.load(files.visionConfig(), files.llmConfig(),
                     files.llmDir().resolve("config.json"), files.preprocessorConfig().cropHeight(), tower, llm,
                     half, VisionEncoder.defaultEncodeMemoryLimit(), "test", line -> { })) {
            out = encoder.encode(pixels);
        }

        assertArrayEquals(projected.shape(), out.embeddings().shape());
        double maxRef = 0;
        double maxDiff = 0;
        for (int i = 0; i < projected.data().length; i++) {
            maxRef = Math.max(maxRef, Math.abs(projected.data()[i]));
            maxDiff = Math.max(maxDiff, Math.abs(projected.data()[i] - out.embeddings().data()[i]));
        }
        assertTrue(maxDiff <= 5e-3 * maxRef, "max |diff| " + maxDiff + ", max |ref| " + maxRef);
    }
}
