package io.convllava.tests;

import com.google.gson.JsonObject;
import io.convllava.common.io.Npy;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code convllava generate} in one process reproduces the reference on every fixture, from the command line:
 * the flat safetensors folder, the hub cache with .bin shards and a separate tower, and the GQA/384 px holdout.
 */
class CliParityTest {

    static List<String> modelArgs(String fixture) {
        return switch (fixture) {
            case "tiny-convllava" -> List.of("--model", Fixtures.tinyModel().toString());
            case "hubtiny-convllava" -> List.of("--model", "ConvLLaVA/ConvLLaVA-sft-tiny",
                    "--hf-cache", Fixtures.hubtinyCache().toString());
            case "holdout-convllava" -> List.of("--model", "ConvLLaVA/ConvLLaVA-sft-384",
                    "--hf-cache", Fixtures.holdoutCache().toString());
            default -> throw new IllegalArgumentException(fixture);
        };
    }

    static CliRun generate(String fixture, Reference ref, int caseIndex, String... extra) {
        List<String> args = new ArrayList<>(List.of("generate"));
        args.addAll(modelArgs(fixture));
        args.addAll(List.of("--prompt", ref.question(caseIndex), "--max-new-tokens",
                String.valueOf(ref.testCase(caseIndex).getAsJsonArray("greedy_tokens").size()), "--json"));
        args.addAll(List.of(extra));
        return CliRun.of(args.toArray(String[]::new));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-convllava", "hubtiny-convllava", "holdout-convllava"})
    void everyCaseFromTheImageFile(String fixture, @TempDir Path dump) throws IOException {
        Reference ref = new Reference(fixture);
        for (int c = 0; c < ref.json.getAsJsonArray("cases").size(); c++) {
            Path dir = dump.resolve("case" + c);
            CliRun run = ref.withImage(c)
                    ? generate(fixture, ref, c, "--image", ref.image().toString(), "--dump-dir", dir.toString())
                    : generate(fixture, ref, c, "--dump-dir", dir.toString());
            JsonObject out = run.json();
            assertArrayEquals(Reference.ints(ref.testCase(c).getAsJsonArray("input_ids")),
                    Reference.ints(out.getAsJsonArray("input_ids")), fixture + " case " + c + " input_ids");
            ref.assertGreedyPrefix(c, Reference.ints(out.getAsJsonArray("tokens")));
            float[] logits = Npy.read(dir.resolve("prefill_logits.npy")).data();
            float logitDiff = Reference.maxAbsDiff(logits, ref.npy("case" + c + "-prefill-logits.npy").data());
            assertTrue(logitDiff <= 1e-3f, fixture + " case " + c + " prefill logits differ by " + logitDiff);
            if (ref.withImage(c)) {
                float[] pixels = Npy.read(dir.resolve("pixels.npy")).data();
                float[] refPixels = ref.npy("pixels.npy").data();
                assertTrue(Reference.maxAbsDiff(pixels, refPixels) <= 0.016f, fixture + " pixels max diff");
                assertTrue(Reference.meanAbsDiff(pixels, refPixels) <= 0.001f, fixture + " pixels mean diff");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-convllava", "hubtiny-convllava", "holdout-convllava"})
    void featuresAndEmbeddingsFromTheReferencePixels(String fixture, @TempDir Path dump) throws IOException {
        Reference ref = new Reference(fixture);
        CliRun run = generate(fixture, ref, 0, "--pixels-npy", Fixtures.file(fixture, "pixels.npy").toString(),
                "--dump-dir", dump.toString());
        ref.assertGreedyPrefix(0, Reference.ints(run.json().getAsJsonArray("tokens")));
        for (String[] pair : new String[][] {{"vision_features.npy", "vision-features.npy"},
                {"image_embeddings.npy", "projected.npy"}}) {
            HostTensor ours = Npy.read(dump.resolve(pair[0]));
            HostTensor expected = ref.npy(pair[1]);
            assertArrayEquals(expected.shape(), ours.shape(), fixture + " " + pair[0] + " shape");
            float diff = Reference.maxAbsDiff(ours.data(), expected.data());
            float bound = 1e-4f * Reference.maxAbs(expected.data());
            assertTrue(diff <= bound, fixture + " " + pair[0] + " differs by " + diff + " > " + bound);
        }
        float logitDiff = Reference.maxAbsDiff(Npy.read(dump.resolve("prefill_logits.npy")).data(),
                ref.npy("case0-prefill-logits.npy").data());
        assertTrue(logitDiff <= 1e-3f, fixture + " prefill logits differ by " + logitDiff);
    }
}
