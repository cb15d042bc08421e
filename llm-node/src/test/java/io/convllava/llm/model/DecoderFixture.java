package io.convllava.llm.model;

import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;

import java.util.List;

/** A reference model with its cases and the layer splits it is checked under. */
record DecoderFixture(String name, ModelFiles files, List<ReferenceCase> cases, List<int[]> splits) {

    static DecoderFixture tiny() {
        return new DecoderFixture("tiny-convllava", ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null),
                ReferenceCase.load("tiny-convllava"), List.of(new int[] {0, 2, 4}, new int[] {0, 1, 4}));
    }

    static DecoderFixture hubtiny() {
        return new DecoderFixture("hubtiny-convllava",
                ModelFiles.resolve("ConvLLaVA/ConvLLaVA-sft-tiny", Fixtures.hubtinyCache(), null),
                ReferenceCase.load("hubtiny-convllava"), List.of(new int[] {0, 2, 4}, new int[] {0, 1, 4}));
    }

    /** Grouped-query attention: 6 heads over 2 KV heads, 6 layers. */
    static DecoderFixture holdout() {
        return new DecoderFixture("holdout-convllava",
                ModelFiles.resolve("ConvLLaVA/ConvLLaVA-sft-384", Fixtures.holdoutCache(), null),
                ReferenceCase.load("holdout-convllava"), List.of(new int[] {0, 2, 5, 6}));
    }

    static List<DecoderFixture> all() {
        return List.of(tiny(), hubtiny(), holdout());
    }

    int layers() {
        return files.llmConfig().numHiddenLayers();
    }

    @Override
    public String toString() {
        return name;
    }
}
