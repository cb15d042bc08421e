package io.convllava.common.checkpoint;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test helper: damaged copies of a fixture checkpoint's files, and what reading them must show. */
final class ShardedCopies {
    private ShardedCopies() {
    }

    /** Copies {@code names} from the folder {@code from} into {@code to}. */
    static void copy(Path from, Path to, String... names) throws IOException {
        for (String name : names) {
            Files.copy(from.resolve(name), to.resolve(name));
        }
    }

    /** Copies {@code name} from {@code from} into {@code to}, cut to half its length; returns the copy. */
    static Path truncatedCopy(Path from, Path to, String name) throws IOException {
        Path cut = to.resolve(name);
        Files.copy(from.resolve(name), cut);
        try (RandomAccessFile f = new RandomAccessFile(cut.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        return cut;
    }

    /**
     * Opens the sharded checkpoint in {@code dir}, whose shard {@code broken} is unreadable: {@code readable} (a
     * {@code [64]} tensor of another shard) reads, and reading {@code inBroken} fails naming the broken shard.
     */
    static void assertShardsOpenOnDemand(Path dir, String readable, String inBroken, Path broken) {
        try (TensorSource src = Checkpoints.open(dir)) {
            assertEquals(64, src.readFloat(readable, 64).remaining());
            CheckpointException e = assertThrows(CheckpointException.class, () -> src.readFloat(inBroken));
            assertTrue(e.getMessage().contains(broken.toString()), e.getMessage());
        }
    }
}
