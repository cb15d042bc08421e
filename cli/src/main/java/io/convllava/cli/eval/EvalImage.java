package io.convllava.cli.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The image of a benchmark question: a file under the benchmark's image folder, or bytes carried in its data file. */
public final class EvalImage {
    private final String name;
    private final Path file;
    private final byte[] bytes;

    private EvalImage(String name, Path file, byte[] bytes) {
        this.name = name;
        this.file = file;
        this.bytes = bytes;
    }

    public static EvalImage file(Path file) {
        return new EvalImage(file.getFileName().toString(), file, null);
    }

    /** Bytes carried by the data file (MMBench's base64 column), named for the predictions file. */
    public static EvalImage inline(String name, byte[] bytes) {
        return new EvalImage(name, null, bytes);
    }

    /** The file name, or the name given to inline bytes. */
    public String name() {
        return name;
    }

    public byte[] read() throws IOException {
        return bytes != null ? bytes : Files.readAllBytes(file);
    }
}
