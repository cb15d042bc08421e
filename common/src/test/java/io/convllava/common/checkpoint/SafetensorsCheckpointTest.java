package io.convllava.common.checkpoint;

import io.convllava.common.testing.FixtureKeys;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.convllava.common.testing.BitExact.assertSameBits;
import static io.convllava.common.testing.BitExact.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsCheckpointTest {
    static final String SHARD1 = "model-00001-of-00002.safetensors";
    static final String SHARD2 = "model-00002-of-00002.safetensors";
    static final String INDEX = "model.safetensors.index.json";

    @TempDir
    Path tmp;

    @Test
    void shardedSafetensorsListsEveryReferenceKey() {
        try (TensorSource src = Checkpoints.open(Fixtures.tinyModel())) {
            assertEquals(FixtureKeys.stateDict("tiny-convllava"), src.names());
            TensorInfo embed = src.info("model.embed_tokens.weight");
            assertEquals(DType.BF16, embed.dtype());
            assertArrayEquals(new long[] {32000, 64}, embed.shape());
            assertEquals(Fixtures.tinyModel().resolve(SHARD1), embed.file());
            FloatBuffer w = src.readFloat("model.embed_tokens.weight", 32000, 64);
            assertEquals(32000 * 64, w.remaining());
            assertTrue(w.isDirect());
            assertEquals(ByteOrder.nativeOrder(), w.order());
            assertEquals(32000L * 64 * 2 + 64 * 2, Checkpoints.storedBytes(src,
                    java.util.List.of("model.embed_tokens.weight", "model.norm.weight")));
        }
    }

    @Test
    void readingAcrossManySmallMappingWindowsGivesTheSameBits() {
        Path shard = Fixtures.tinyModel().resolve(SHARD2);
        try (SafetensorsFile whole = new SafetensorsFile(shard);
             SafetensorsFile windowed = new SafetensorsFile(new MappedFile(shard, 64))) {
            for (String name : whole.names()) {
                assertSameBits(whole.readFloat(name), windowed.readFloat(name), name);
            }
        }
    }

    @Test
    void missingShardNamesTheShardAndTheIndex() throws Exception {
        ShardedCopies.copy(Fixtures.tinyModel(), tmp, INDEX, SHARD1);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(tmp));
        assertTrue(e.getMessage().contains("'" + SHARD2 + "'"), e.getMessage());
        assertTrue(e.getMessage().contains(tmp.resolve(INDEX).toString()), e.getMessage());
    }

    @Test
    void shardsAreOpenedOnlyWhenOneOfTheirTensorsIsRead() throws Exception {
        ShardedCopies.copy(Fixtures.tinyModel(), tmp, INDEX, SHARD1);
        Files.write(tmp.resolve(SHARD2), new byte[] {1, 2, 3}); // present but unreadable
        ShardedCopies.assertShardsOpenOnDemand(tmp, "model.layers.0.input_layernorm.weight",
                "model.mm_projector.0.weight", tmp.resolve(SHARD2));
    }

    @Test
    void truncatedShardNamesTheFileAndATensorThatNoLongerFits() throws Exception {
        Path cut = ShardedCopies.truncatedCopy(Fixtures.tinyModel(), tmp, SHARD2);
        CheckpointException e = assertThrows(CheckpointException.class, () -> new SafetensorsFile(cut));
        assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("tensor '"), e.getMessage());
    }

    @Test
    void wrongShapeNamesKeyFileAndBothShapes() {
        try (TensorSource src = Checkpoints.open(Fixtures.tinyModel())) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> src.readFloat("model.layers.0.input_layernorm.weight", 65));
            assertTrue(e.getMessage().contains("'model.layers.0.input_layernorm.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains(SHARD1), e.getMessage());
            assertTrue(e.getMessage().contains("[64]") && e.getMessage().contains("[65]"), e.getMessage());
        }
    }

    @Test
    void unknownTensorNamesTheKeyAndTheIndex() {
        try (TensorSource src = Checkpoints.open(Fixtures.tinyModel())) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> src.readFloat("model.nope"));
            assertTrue(e.getMessage().contains("'model.nope'") && e.getMessage().contains(INDEX), e.getMessage());
        }
    }

    @Test
    void absurdHeaderLengthIsRejectedNamingTheFile() throws Exception {
        Path file = tmp.resolve("bad.safetensors");
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 60);
        Files.write(file, b.array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("header length"),
                e.getMessage());
    }

    @Test
    void malformedHeaderEntryNamesTheTensor() throws Exception {
        Path file = tmp.resolve("bad.safetensors");
        new SafetensorsBuilder().add("w", "F32", new long[] {3}, new byte[8]).write(file);
        CheckpointException e = assertThrows(CheckpointException.class, () -> new SafetensorsFile(file));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void tensorBeyondTheTwoGibMarkOfASparseFileIsRead() throws Exception {
        Path file = tmp.resolve("huge.safetensors");
        long farOffset = (1L << 31) + 4096 + 2; // beyond 2 GiB, not even 4-byte aligned
        String header = "{\"near\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"far\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[" + farOffset + "," + (farOffset + 8)
                + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + json.length;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(dataStart + farOffset + 8);
            ByteBuffer head = ByteBuffer.allocate((int) dataStart + 8).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(json.length).put(json).putFloat(1.5f).putFloat(-2f);
            f.write(head.array());
            f.seek(dataStart + farOffset);
            f.write(SafetensorsBuilder.shorts((short) 0x3f80, (short) 0xc040, (short) 0x7f80, (short) 0x0001));
        }
        try (TensorSource src = Checkpoints.open(file)) {
            assertTrue(Files.size(file) > (1L << 31));
            assertArrayEquals(new float[] {1.5f, -2f}, toArray(src.readFloat("near", 2)));
            assertArrayEquals(new float[] {1f, -3f, Float.POSITIVE_INFINITY, Float.intBitsToFloat(0x00010000)},
                    toArray(src.readFloat("far", 2, 2)));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void bf16IsWidenedToTheFloatWithTheSameTopSixteenBits() throws Exception {
        float[] samples = {0f, -0f, 1f, -1.0078125f, 3.14159265f, 1e-38f, -6.5e37f, Float.MIN_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 65504f, 1e-3f};
        short[] bf16 = new short[samples.length];
        float[] expected = new float[samples.length];
        for (int i = 0; i < samples.length; i++) {
            int bits = Float.floatToRawIntBits(samples[i]);
            bf16[i] = (short) (bits >>> 16);
            expected[i] = Float.intBitsToFloat(bits & 0xffff0000);
        }
        Path file = tmp.resolve("bf16.safetensors");
        new SafetensorsBuilder().add("x", "BF16", new long[] {samples.length}, SafetensorsBuilder.shorts(bf16))
                .write(file);
        try (TensorSource src = Checkpoints.open(file)) {
            assertSameBits(FloatBuffer.wrap(expected), src.readFloat("x"), "bf16");
        }
    }

    @Test
    void f16IsWidenedExactlyIncludingSubnormalsInfinitiesAndNaN() throws Exception {
        short[] half = {0x3c00, (short) 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, (short) 0xfc00,
                (short) 0x8000, 0x7e00, 0x3555};
        float[] expected = {1f, -2f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, 65504f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, -0f, Float.NaN, 0.33325195f};
        Path file = tmp.resolve("f16.safetensors");
        new SafetensorsBuilder().add("x", "F16", new long[] {half.length}, SafetensorsBuilder.shorts(half)).write(file);
        try (TensorSource src = Checkpoints.open(file)) {
            assertSameBits(FloatBuffer.wrap(expected), src.readFloat("x"), "f16");
        }
    }
}
