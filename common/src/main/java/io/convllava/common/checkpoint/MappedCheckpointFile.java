package io.convllava.common.checkpoint;

import java.nio.file.Path;
import java.util.Map;

/** A checkpoint file whose tensor table is read when it is opened and whose tensors are read through memory maps. */
abstract class MappedCheckpointFile implements TensorSource {
    final MappedFile file;

    MappedCheckpointFile(MappedFile file) {
        this.file = file;
    }

    public Path path() {
        return file.path();
    }

    /** {@code table}'s entry for {@code name}; an error names the tensor and this file when there is none. */
    final <E> E lookup(Map<String, E> table, String name) {
        E entry = table.get(name);
        if (entry == null) {
            throw new CheckpointException("no tensor '" + name + "' in " + file.path());
        }
        return entry;
    }

    @Override
    public void close() {
        file.close();
    }

    @Override
    public String toString() {
        return file.path().toString();
    }
}
