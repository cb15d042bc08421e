package io.convllava.common.checkpoint;

import io.convllava.common.model.HubCache;
import io.convllava.common.testing.FixtureKeys;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TorchPickleFileTest {
    static final Path HUBTINY_LLM = HubCache.snapshot(Fixtures.hubtinyCache(), "ConvLLaVA/ConvLLaVA-sft-tiny");

    @Test
    void shardedBinListsEveryReferenceKeyAndMatchesSafetensorsBitForBit() {
        try (TensorSource bin = Checkpoints.open(HUBTINY_LLM);
             TensorSource st = Checkpoints.open(Fixtures.tinyModel())) {
            assertEquals(FixtureKeys.stateDict("hubtiny-convllava"), bin.names());
            for (String name : bin.names()) {
                TensorInfo info = bin.info(name);
                assertEquals(DType.BF16, info.dtype(), name);
                FloatBuffer a = bin.readFloat(name, st.info(name).shape());
                FloatBuffer b = st.readFloat(name);
                assertEquals(b, a, name); // FloatBuffer.equals compares elements (NaN equal to NaN)
            }
        }
    }
}
