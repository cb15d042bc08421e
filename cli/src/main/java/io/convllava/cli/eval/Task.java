package io.convllava.cli.eval;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The benchmarks of the ConvLLaVA paper that {@code convllava eval} scores, each read in its own file format. */
public enum Task {
    POPE(128), REFCOCO(100), TEXTVQA(128), DOCVQA(128), MME(128), MMBENCH(128);

    private final int defaultMaxNewTokens;

    Task(int defaultMaxNewTokens) {
        this.defaultMaxNewTokens = defaultMaxNewTokens;
    }

    public static Task byName(String name) {
        for (Task task : values()) {
            if (task.label().equals(name.toLowerCase(Locale.ROOT))) {
                return task;
            }
        }
        throw new IllegalArgumentException("unknown task '" + name + "'; use one of " + names());
    }

    /** "pope|refcoco|textvqa|docvqa|mme|mmbench". */
    public static String names() {
        return Arrays.stream(values()).map(Task::label).collect(Collectors.joining("|"));
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The reference evaluations' limit: 100 for RefCOCO, 128 (LLaVA's question loader) for the others. */
    public int defaultMaxNewTokens() {
        return defaultMaxNewTokens;
    }

    /**
     * Reads the benchmark.
     *
     * @param data   its data file (MME: its release folder)
     * @param images the folder its image paths are relative to
     * @throws BenchmarkFormatException naming the file, line and field at fault
     */
    public LoadedBenchmark load(Path data, Path images, PromptStyle style) {
        return switch (this) {
            case POPE -> PopeFormat.load(data, images, style);
            case REFCOCO -> RefCocoFormat.load(data, images);
            case TEXTVQA -> TextVqaFormat.load(data, images, style);
            case DOCVQA -> DocVqaFormat.load(data, images, style);
            case MME -> MmeFormat.load(data, style);
            case MMBENCH -> MmbenchFormat.load(data, images, style);
        };
    }
}
