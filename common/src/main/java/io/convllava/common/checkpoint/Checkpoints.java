package io.convllava.common.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

/** Opens a checkpoint in any of the layouts Hugging Face and LLaVA write. */
public final class Checkpoints {
    /** What {@link #open(Path)} looks for in a directory, in order of preference. */
    public static final List<String> WEIGHT_FILES = List.of(
            "model.safetensors.index.json", "model.safetensors",
            "pytorch_model.bin.index.json", "pytorch_model.bin");

    private Checkpoints() {
    }

    /**
     * A directory holding one of {@link #WEIGHT_FILES}, or a direct path to a {@code .safetensors} file, a
     * {@code torch.save} zip ({@code .bin}) or a {@code *.index.json}. Lazy and memory-mapped.
     */
    public static TensorSource open(Path dirOrFile) {
        if (Files.isDirectory(dirOrFile)) {
            Path weights = findWeights(dirOrFile);
            if (weights == null) {
                throw new CheckpointException("no checkpoint in " + dirOrFile + ": looked for " + WEIGHT_FILES);
            }
            return open(weights);
        }
        if (!Files.isRegularFile(dirOrFile)) {
            throw new CheckpointException("checkpoint not found: " + dirOrFile);
        }
        if (dirOrFile.getFileName().toString().endsWith(".index.json")) {
            return new ShardedCheckpoint(dirOrFile);
        }
        return openFile(dirOrFile);
    }

    /** The first of {@link #WEIGHT_FILES} present in {@code dir}, or null. */
    public static Path findWeights(Path dir) {
        for (String name : WEIGHT_FILES) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** One weights file, told apart by content: a zip (what {@code torch.save} writes) or safetensors. */
    static TensorSource openFile(Path file) {
        byte[] magic = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(magic, 0, 4);
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint file " + file + ": " + e, e);
        }
        if (n == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) {
            return new TorchPickleFile(file);
        }
        // legacy torch.save: pickle PROTO 2 then LONG1 of the 10-byte magic number (as a safetensors header
        // length these bytes would exceed the format's 100 MB limit, so the two cannot be confused)
        if (n == 4 && (magic[0] & 0xff) == 0x80 && magic[1] == 2 && (magic[2] & 0xff) == 0x8a && magic[3] == 10) {
            throw new CheckpointException(file + " is a legacy (pre-zip) torch.save file, which is not supported;"
                    + " re-save it with a current PyTorch or convert it to safetensors");
        }
        return new SafetensorsFile(file);
    }

    /** Bytes the given tensors occupy on disk (before widening): what a loader has to read. */
    public static long storedBytes(TensorSource source, Collection<String> names) {
        long total = 0;
        for (String name : names) {
            TensorInfo info = source.info(name);
            total += info.numel() * info.dtype().bytes();
        }
        return total;
    }
}
