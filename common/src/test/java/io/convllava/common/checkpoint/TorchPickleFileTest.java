package io.convllava.common.checkpoint;

import io.convllava.common.model.HubCache;
import io.convllava.common.testing.FixtureKeys;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import static io.convllava.common.testing.BitExact.assertSameBits;
import static io.convllava.common.testing.BitExact.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TorchPickleFileTest {
    static final Path HUBTINY_LLM = HubCache.snapshot(Fixtures.hubtinyCache(), "ConvLLaVA/ConvLLaVA-sft-tiny");
    static final Path HOLDOUT_LLM = HubCache.snapshot(Fixtures.holdoutCache(), "ConvLLaVA/ConvLLaVA-sft-384");
    static final String BIN_INDEX = "pytorch_model.bin.index.json";
    static final String BIN_SHARD1 = "pytorch_model-00001-of-00002.bin";
    static final String BIN_SHARD2 = "pytorch_model-00002-of-00002.bin";

    @TempDir
    Path tmp;

    @Test
    void shardedBinListsEveryReferenceKeyAndMatchesTheSafetensorsLayoutBitForBit() {
        try (TensorSource bin = Checkpoints.open(HUBTINY_LLM);
             TensorSource st = Checkpoints.open(Fixtures.tinyModel())) {
            assertEquals(FixtureKeys.stateDict("hubtiny-convllava"), bin.names());
            for (String name : bin.names()) {
                assertEquals(DType.BF16, bin.info(name).dtype(), name);
                assertSameBits(st.readFloat(name), bin.readFloat(name, st.info(name).shape()), name);
            }
        }
    }

    @Test
    void holdoutBinListsEveryReferenceKey() {
        try (TensorSource bin = Checkpoints.open(HOLDOUT_LLM)) {
            assertEquals(FixtureKeys.stateDict("holdout-convllava"), bin.names());
            // GQA: 6 heads of 16, 2 KV heads
            assertEquals(32 * 96, bin.readFloat("model.layers.5.self_attn.k_proj.weight", 32, 96).remaining());
        }
    }

    @Test
    void onlyTheShardsOfRequestedTensorsAreRead() throws Exception {
        ShardedCopies.copy(HUBTINY_LLM, tmp, BIN_INDEX, BIN_SHARD2);
        Files.write(tmp.resolve(BIN_SHARD1), new byte[] {'P', 'K', 3, 4}); // present but unreadable
        ShardedCopies.assertShardsOpenOnDemand(tmp, "model.norm.weight", "model.layers.0.input_layernorm.weight",
                tmp.resolve(BIN_SHARD1));
    }

    @Test
    void storageOffsetsStridesParametersAndStorageTypesAreHonoured() throws Exception {
        Path file = tmp.resolve("views.bin");
        new TorchZipBuilder()
                .op(0x80, 2, '}', '(')
                .tensorItem("transposed", "FloatStorage", 0, 12, 2, new long[] {2, 3}, new long[] {1, 2})
                .tensorItem("slice", "FloatStorage", 0, 12, 5, new long[] {3}, new long[] {1})
                .tensorItem("broadcast", "FloatStorage", 0, 12, 1, new long[] {2, 2}, new long[] {0, 1})
                .string("param").global("torch._utils", "_rebuild_parameter")
                .op('(').tensor("HalfStorage", 1, 2, 0, new long[] {2}, new long[] {1})
                .op(0x88).global("collections", "OrderedDict").op(')', 'R', 't', 'R')
                .op('u', '.')
                .floatStorage(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
                .rawStorage(1, SafetensorsBuilder.shorts((short) 0x3c00, (short) 0xc000))
                .write(file);
        try (TensorSource src = Checkpoints.open(file)) {
            assertEquals(java.util.Set.of("transposed", "slice", "broadcast", "param"), src.names());
            assertArrayEquals(new float[] {2, 4, 6, 3, 5, 7}, toArray(src.readFloat("transposed", 2, 3)));
            assertArrayEquals(new float[] {5, 6, 7}, toArray(src.readFloat("slice", 3)));
            assertArrayEquals(new float[] {1, 2, 1, 2}, toArray(src.readFloat("broadcast", 2, 2)));
            assertEquals(DType.F16, src.info("param").dtype());
            assertArrayEquals(new float[] {1, -2}, toArray(src.readFloat("param", 2)));
            // stored bytes, packed in the view's order: a copy for a strided view, the storage itself for the rest
            assertArrayEquals(new float[] {2, 4, 6, 3, 5, 7}, floats(src.readRaw("transposed")));
            assertArrayEquals(new float[] {1, 2, 1, 2}, floats(src.readRaw("broadcast")));
            ByteBuffer half = src.readRaw("param");
            assertEquals(4, half.remaining());
            assertEquals((short) 0x3c00, half.getShort(0));
            assertEquals((short) 0xc000, half.getShort(2));
        }
    }

    private static float[] floats(ByteBuffer littleEndian) {
        float[] out = new float[littleEndian.remaining() / Float.BYTES];
        littleEndian.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @Test
    void zip64ArchivesAreRead() throws Exception {
        Path file = tmp.resolve("zip64.bin");
        new TorchZipBuilder()
                .op(0x80, 2, '}', '(')
                .tensorItem("w", "FloatStorage", 0, 3, 0, new long[] {3}, new long[] {1})
                .op('u', '.')
                .floatStorage(0, 7, 8, 9)
                .paddingEntries(70_000)
                .write(file);
        try (TensorSource src = Checkpoints.open(file)) {
            assertArrayEquals(new float[] {7, 8, 9}, toArray(src.readFloat("w", 3)));
        }
    }

    @Test
    void foreignGlobalIsRefusedBeforeAnythingRuns() throws Exception {
        Path file = tmp.resolve("evil.bin");
        new TorchZipBuilder()
                .op(0x80, 2).global("os", "system").op('(').string("touch /tmp/pwned").op('t', 'R', '.')
                .write(file);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("'os.system'"), e.getMessage());
    }

    @Test
    void storageEntryMissingFromTheArchiveNamesTensorAndEntry() throws Exception {
        Path file = tmp.resolve("nostorage.bin");
        new TorchZipBuilder()
                .op(0x80, 2, '}', '(')
                .tensorItem("w", "FloatStorage", 3, 4, 0, new long[] {4}, new long[] {1})
                .op('u', '.')
                .write(file);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("archive/data/3"), e.getMessage());
    }

    @Test
    void truncatedBinNamesTheFile() throws Exception {
        Path cut = ShardedCopies.truncatedCopy(HUBTINY_LLM, tmp, BIN_SHARD2);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(cut));
        assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
    }
}
