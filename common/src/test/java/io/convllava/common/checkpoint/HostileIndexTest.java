package io.convllava.common.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.convllava.common.checkpoint.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Crafted {@code *.index.json} files: shards must stay inside the checkpoint directory, and the index be sane. */
class HostileIndexTest {
    @TempDir
    Path tmp;

    /** {@code tmp/model/<index>} mapping tensor 'w' to {@code shard}; a valid shard also exists outside the directory. */
    private Path index(String shardJson) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        new SafetensorsBuilder().addFloats("w", new long[] {1}, 1).write(tmp.resolve("outside.safetensors"));
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\":{\"w\":" + shardJson + "}}");
        return index;
    }

    @Test
    void shardInASubdirectoryIsRead() throws Exception {
        Path index = index("\"shards/part.safetensors\"");
        Files.createDirectories(index.resolveSibling("shards"));
        new SafetensorsBuilder().addFloats("w", new long[] {1}, 5).write(index.resolveSibling("shards/part.safetensors"));
        try (TensorSource src = Checkpoints.open(index.getParent())) {
            assertEquals(5f, src.readFloat("w", 1).get(0));
        }
    }

    @Test
    void shardClimbingOutOfTheDirectoryIsRefused() throws Exception {
        Path index = index("\"../outside.safetensors\"");
        assertRefused(index, "shard '../outside.safetensors'", "(for tensor 'w')", "lies outside the checkpoint directory");
        Files.createDirectories(index.resolveSibling("sub"));
        Files.writeString(index, "{\"weight_map\":{\"w\":\"sub/../../outside.safetensors\"}}");
        assertRefused(index, "shard 'sub/../../outside.safetensors'", "lies outside the checkpoint directory");
    }

    @Test
    void absoluteShardPathIsRefused() throws Exception {
        String outside = tmp.resolve("outside.safetensors").toAbsolutePath().toString();
        Path index = index("\"" + outside + "\"");
        assertRefused(index, "shard '" + outside + "'", "lies outside the checkpoint directory");
    }

    @Test
    void emptyOrNulShardNameIsRefused() throws Exception {
        assertRefused(index("\"\""), "shard ''", "lies outside");
        assertRefused(index("\"a\\u0000b\""), "(for tensor 'w')", "is not a valid file name");
    }

    @Test
    void shardNameThatIsNotAStringIsRefused() throws Exception {
        assertRefused(index("{\"a\":1}"), "tensor 'w'", "something other than a shard file name");
        assertRefused(index("null"), "tensor 'w'", "something other than a shard file name");
        assertRefused(index("[\"outside.safetensors\"]"), "tensor 'w'", "something other than a shard file name");
    }

    @Test
    void deeplyNestedIndexIsRefusedWithoutOverflowingTheStack() throws Exception {
        Path index = index("1");
        Files.writeString(index, "{\"weight_map\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}");
        assertRefused(index, "cannot parse checkpoint index");
    }

    @Test
    void oversizedIndexIsRefusedBeforeItIsRead() throws Exception {
        Path index = index("\"x\"");
        try (RandomAccessFile f = new RandomAccessFile(index.toFile(), "rw")) {
            f.setLength(ShardedCheckpoint.MAX_INDEX_BYTES + 1); // sparse: nothing is written
        }
        assertRefused(index, "more than the limit of " + ShardedCheckpoint.MAX_INDEX_BYTES);
    }
}
