package io.convllava.cli;

import io.convllava.common.model.ModelFiles;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** Which model to load: {@code --model} with {@code --hf-cache} and {@code --vision-tower}. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR|ORG/NAME", description = "Model folder, or a Hugging Face hub id"
            + " found in the hub cache.")
    String model;

    @Option(names = "--hf-cache", paramLabel = "DIR", description = HubCacheOption.HELP)
    Path hfCache;

    @Option(names = "--vision-tower", paramLabel = "DIR", description = "Vision tower folder, instead of the"
            + " config's mm_vision_tower.")
    Path visionTower;

    /** The model's files; {@code --model} must have been given. */
    ModelFiles files() {
        return ModelFiles.resolve(required(), hfCache, visionTower);
    }

    String required() {
        if (model == null) {
            throw new UsageException("missing --model DIR|ORG/NAME: the model to load");
        }
        return model;
    }

    /** {@code modelId} if given, else the model folder's name or the hub id: how nodes and clients name the model. */
    String id(String modelId) {
        if (modelId != null) {
            return modelId;
        }
        Path asPath = Path.of(required());
        return Files.isDirectory(asPath) ? asPath.toAbsolutePath().normalize().getFileName().toString() : model;
    }

    /** The bundled demo model, {@code models/convllava-shapes} of the distribution or checkout. */
    static Path bundled() {
        String home = System.getenv("CONVLLAVA_HOME");
        return Path.of(home != null ? home : ".").resolve("models/convllava-shapes");
    }
}
