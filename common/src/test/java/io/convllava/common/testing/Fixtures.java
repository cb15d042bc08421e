package io.convllava.common.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Locates the reference fixtures and the bundled demo model inside the project, so a clone tests on its own.
 * Surefire passes the project root as {@code convllava.root}; otherwise we search upwards.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /** {@code tests/fixtures}: convllava/ (tiny, hubtiny) and holdout/. */
    public static Path root() {
        return projectRoot().resolve("tests/fixtures");
    }

    public static Path projectRoot() {
        String prop = System.getProperty("convllava.root");
        if (prop != null && Files.isDirectory(Path.of(prop, "tests/fixtures"))) {
            return Path.of(prop);
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            if (Files.isDirectory(p.resolve("tests/fixtures")) && Files.exists(p.resolve("pom.xml"))) {
                return p;
            }
            p = p.getParent();
        }
        throw new IllegalStateException("cannot find the project root (a folder with tests/fixtures) above "
                + Path.of("").toAbsolutePath());
    }

    /** The folder holding {@code <name>-reference.json} etc.: convllava/ for tiny and hubtiny, holdout/ for holdout. */
    public static Path referenceDir(String fixture) {
        return fixture.startsWith("holdout") ? root().resolve("holdout") : root().resolve("convllava");
    }

    /** A reference file of a fixture, e.g. {@code file("tiny-convllava", "pixels.npy")}. */
    public static Path file(String fixture, String suffix) {
        return referenceDir(fixture).resolve(fixture + "-" + suffix);
    }

    /** {@code tests/fixtures/convllava/tiny-convllava}: flat safetensors layout, tower inside the main shards. */
    public static Path tinyModel() {
        return root().resolve("convllava/tiny-convllava");
    }

    /**
     * The tiny model's configs and tokenizer copied into {@code dir}, without any weights: it resolves like the
     * real one, and loading it fails, so a test can tell whether something loaded.
     */
    public static Path tinyModelWithoutWeights(Path dir) throws IOException {
        Path tiny = tinyModel();
        Files.createDirectories(dir.resolve("vision_tower"));
        try (Stream<Path> files = Files.walk(tiny)) {
            for (Path file : files.filter(f -> Files.isRegularFile(f) && !f.toString().endsWith(".safetensors"))
                    .toList()) {
                Files.copy(file, dir.resolve(tiny.relativize(file).toString()));
            }
        }
        return dir;
    }

    /** Hugging Face hub cache holding ConvLLaVA/ConvLLaVA-sft-tiny and ConvLLaVA/ConvLLaVA-ConvNeXt-tiny (.bin). */
    public static Path hubtinyCache() {
        return root().resolve("convllava/hubtiny-convllava/hub");
    }

    /** Hub cache of the holdout fixture: ConvLLaVA/ConvLLaVA-sft-384 and ConvLLaVA/ConvLLaVA-ConvNeXt-384 (GQA). */
    public static Path holdoutCache() {
        return root().resolve("holdout/holdout-convllava/hub");
    }

    /** The bundled demo model {@code models/convllava-shapes}. */
    public static Path shapesModel() {
        return projectRoot().resolve("models/convllava-shapes");
    }
}
