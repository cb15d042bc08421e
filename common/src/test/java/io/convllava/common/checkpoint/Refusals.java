package io.convllava.common.checkpoint;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test helper: a crafted checkpoint must be refused with a {@link CheckpointException} that says where and why. */
final class Refusals {
    private Refusals() {
    }

    /** Opening {@code file} fails naming {@code named} (the file at fault) and every one of {@code fragments}. */
    static CheckpointException assertRefused(Path file, Path named, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file).close());
        assertTrue(e.getMessage().contains(named.toString()), e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
        }
        return e;
    }

    static CheckpointException assertRefused(Path file, String... fragments) {
        return assertRefused(file, file, fragments);
    }
}
