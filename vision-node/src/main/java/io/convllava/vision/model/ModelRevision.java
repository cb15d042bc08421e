package io.convllava.vision.model;

import io.convllava.common.model.ModelFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What identifies the embeddings an encoder produces, so that cached embeddings are never served for another
 * checkpoint: 16 hex digits of a SHA-256 over
 * <ul>
 *   <li>the input resolution and the compute data type (float32 on the CPU, float16 on a GPU);</li>
 *   <li>the contents of {@code config.json} and {@code preprocessor_config.json} in the LLM folder and the tower
 *       folder (the projector type and widths, the tower's shape, the preprocessing);</li>
 *   <li>the name, size and modification time of every weights file in those folders ({@code *.safetensors},
 *       {@code *.bin}, {@code *.pt}, {@code *.pth} and their {@code *.index.json}), symbolic links followed (a hub
 *       cache snapshot links to its blobs).</li>
 * </ul>
 * Weights are not read (gigabytes); replacing a file changes its size or time. The same files copied to another
 * host may give another revision there: a revision names a checkpoint for one node's cache, not across hosts.
 */
public final class ModelRevision {
    private static final int HEX_DIGITS = 16;
    private static final List<String> CONFIGS = List.of("config.json", "preprocessor_config.json");
    private static final List<String> WEIGHT_SUFFIXES = List.of(".safetensors", ".bin", ".pt", ".pth",
            ".safetensors.index.json", ".bin.index.json");

    private ModelRevision() {
    }

    /** The revision of the model's tower and projector as loaded at {@code resolution} in {@code dataType}. */
    public static String of(ModelFiles files, int resolution, String dataType) {
        MessageDigest digest = sha256();
        update(digest, "resolution " + resolution + "\ndtype " + dataType.toLowerCase(Locale.ROOT) + "\n");
        Set<Path> dirs = new LinkedHashSet<>(List.of(files.llmDir(), files.visionDir()));
        for (Path dir : dirs) {
            update(digest, "folder\n");
            for (Path file : listed(dir)) {
                String name = file.getFileName().toString();
                try {
                    if (CONFIGS.contains(name)) {
                        update(digest, "config " + name + "\n");
                        digest.update(Files.readAllBytes(file));
                    } else if (isWeights(name)) {
                        update(digest, "weights " + name + " " + Files.size(file) + " "
                                + Files.getLastModifiedTime(file).toMillis() + "\n");
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("model revision: cannot read " + file + ": " + e.getMessage(), e);
                }
            }
        }
        return HexFormat.of().formatHex(digest.digest()).substring(0, HEX_DIGITS);
    }

    private static boolean isWeights(String name) {
        return WEIGHT_SUFFIXES.stream().anyMatch(name::endsWith);
    }

    /** Regular files (links followed) directly in {@code dir}, by name. */
    private static List<Path> listed(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("model revision: cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void update(MessageDigest digest, String text) {
        digest.update(text.getBytes(StandardCharsets.UTF_8));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
