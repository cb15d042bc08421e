package io.convllava.common.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.convllava.common.checkpoint.Refusals.assertRefused;
import static io.convllava.common.testing.BitExact.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Crafted safetensors headers: each is refused with a CheckpointException naming the file and the tensor or field. */
class HostileSafetensorsTest {
    @TempDir
    Path tmp;

    /** A file whose header is {@code header} (as written) followed by {@code dataBytes} zero bytes. */
    private Path file(String name, String header, int dataBytes) throws Exception {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        return file(name, json.length, json, dataBytes);
    }

    private Path file(String name, long headerLength, byte[] json, int dataBytes) throws Exception {
        Path file = tmp.resolve(name);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(json);
        Files.write(file, b.array());
        return file;
    }

    private static String tensor(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void theValidBaselineLoads() throws Exception {
        Path file = tmp.resolve("ok.safetensors");
        new SafetensorsBuilder().addFloats("w", new long[] {2}, 1, 2).write(file);
        try (TensorSource src = Checkpoints.open(file)) {
            assertArrayEquals(new float[] {1, 2}, toArray(src.readFloat("w", 2)));
        }
    }

    @Test
    void headerLengthBeyondTheFileOrNegativeIsRefused() throws Exception {
        assertRefused(file("long.safetensors", 1000, "{}".getBytes(StandardCharsets.UTF_8), 0),
                "header length 1000 (file has 10 bytes");
        assertRefused(file("negative.safetensors", -1, "{}".getBytes(StandardCharsets.UTF_8), 0),
                "header length -1");
        assertRefused(file("huge.safetensors", Long.MAX_VALUE, new byte[0], 0), "header length " + Long.MAX_VALUE);
    }

    @Test
    void headerThatIsNotAJsonObjectIsRefused() throws Exception {
        assertRefused(file("array.safetensors", "[1,2]", 0), "cannot parse the JSON header");
        assertRefused(file("garbage.safetensors", "{\"w\":", 0), "cannot parse the JSON header");
    }

    @Test
    void deeplyNestedHeaderIsRefusedWithoutOverflowingTheStack() throws Exception {
        String deep = "{\"w\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertRefused(file("deep.safetensors", deep, 0), "cannot parse the JSON header");
    }

    @Test
    void dataOffsetsOutsideTheFileAreRefused() throws Exception {
        assertRefused(file("beyond.safetensors", "{" + tensor("w", "\"F32\"", "[4]", "[0,16]") + "}", 8),
                "truncated or corrupt", "tensor 'w' needs 16 bytes at offset");
    }

    @Test
    void dataOffsetsThatWrapAroundAreRefused() throws Exception {
        // dataStart + begin overflows to a negative offset, which used to slip past the range check
        long begin = Long.MAX_VALUE - 4;
        assertRefused(file("wrap.safetensors",
                "{" + tensor("w", "\"F32\"", "[1]", "[" + begin + "," + (begin + 4) + "]") + "}", 8),
                "truncated or corrupt", "tensor 'w'");
    }

    @Test
    void negativeOrReversedDataOffsetsAreRefused() throws Exception {
        assertRefused(file("negative.safetensors", "{" + tensor("w", "\"F32\"", "[1]", "[-4,0]") + "}", 8),
                "tensor 'w'", "data_offsets [-4, 0] that do not match");
        assertRefused(file("reversed.safetensors", "{" + tensor("w", "\"F32\"", "[0]", "[8,4]") + "}", 8),
                "tensor 'w'", "data_offsets [8, 4]");
    }

    @Test
    void byteCountThatDisagreesWithDtypeAndShapeIsRefused() throws Exception {
        assertRefused(file("mismatch.safetensors", "{" + tensor("w", "\"F32\"", "[3]", "[0,8]") + "}", 8),
                "tensor 'w'", "do not match its F32 shape [3] (12 bytes)");
    }

    @Test
    void shapeWhoseByteCountOverflowsIsRefused() throws Exception {
        assertRefused(file("numel.safetensors",
                "{" + tensor("w", "\"F32\"", "[4611686018427387904,4]", "[0,8]") + "}", 8),
                "tensor 'w'", "overflows 64 bits");
        assertRefused(file("bytes.safetensors",
                "{" + tensor("w", "\"F32\"", "[4611686018427387904]", "[0,8]") + "}", 8),
                "tensor 'w'", "byte size overflows");
    }

    @Test
    void numbersThatAreNotExact64BitIntegersAreRefused() throws Exception {
        // Gson would read 3.5 as 3 and 2^64 + 8 as 8
        assertRefused(file("fraction.safetensors", "{" + tensor("w", "\"U8\"", "[3.5]", "[0,3]") + "}", 8),
                "tensor 'w'", "'shape' must be an array of at most 64 integers, found 3.5");
        assertRefused(file("wide.safetensors",
                "{" + tensor("w", "\"U8\"", "[8]", "[18446744073709551616,18446744073709551624]") + "}", 8),
                "tensor 'w'", "'data_offsets' must be an array of at most 2 integers");
        assertRefused(file("string.safetensors", "{" + tensor("w", "\"U8\"", "[\"8\"]", "[0,8]") + "}", 8),
                "tensor 'w'", "'shape' must be");
    }

    @Test
    void tooManyDimensionsAreRefused() throws Exception {
        String shape = "[" + "1,".repeat(TensorShapes.MAX_RANK) + "1]";
        assertRefused(file("rank.safetensors", "{" + tensor("w", "\"U8\"", shape, "[0,1]") + "}", 8),
                "tensor 'w'", "'shape' must be an array of at most " + TensorShapes.MAX_RANK + " integers");
    }

    @Test
    void overlappingTensorsAreRefused() throws Exception {
        assertRefused(file("overlap.safetensors", "{" + tensor("a", "\"F32\"", "[2]", "[0,8]") + ","
                + tensor("b", "\"F32\"", "[2]", "[4,12]") + "}", 12), "tensors 'a' and 'b'", "overlap");
    }

    @Test
    void missingOrWronglyTypedFieldsAreNamed() throws Exception {
        assertRefused(file("nodtype.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 8),
                "tensor 'w'", "'dtype' must be a string");
        assertRefused(file("objdtype.safetensors", "{" + tensor("w", "{}", "[1]", "[0,1]") + "}", 8),
                "tensor 'w'", "'dtype' must be a string");
        assertRefused(file("noshape.safetensors", "{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 8),
                "tensor 'w'", "'shape' must be");
        assertRefused(file("entry.safetensors", "{\"w\":[1]}", 8), "tensor 'w'", "not a JSON object");
        assertRefused(file("f8.safetensors", "{" + tensor("w", "\"F8_E4M3\"", "[1]", "[0,1]") + "}", 8),
                "tensor 'w'", "unsupported dtype F8_E4M3");
    }
}
