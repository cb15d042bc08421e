package io.convllava.cli.local;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.coordinator.generate.Generator;
import io.convllava.coordinator.text.Tokenizer;
import io.convllava.coordinator.text.Tokenizers;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.pipeline.LocalPipeline;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.model.VisionEncoder;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** The whole model in one process: tokenizer, vision tower + projector, every decoder layer. */
public final class LocalEngine implements AutoCloseable {
    private final VisionEncoder vision;
    private final LocalPipeline pipeline;
    private final Generator generator;

    private LocalEngine(ModelFiles files, Tokenizer tokenizer, VisionEncoder vision, LocalPipeline pipeline) {
        this.vision = vision;
        this.pipeline = pipeline;
        LlmConfig llm = files.llmConfig();
        LocalImageEncoder images = new LocalImageEncoder(ImagePreprocessor.forModel(files), vision);
        this.generator = new Generator(tokenizer, images, pipeline, llm.tokenizerModelMaxLength(),
                llm.maxPositionEmbeddings());
    }

    /**
     * Loads everything; {@code shardBounds} splits the decoder inside the process (e.g. {0, 2, 4}), null for one shard.
     */
    public static LocalEngine load(ModelFiles files, String device, int[] shardBounds) {
        return load(files, device, shardBounds, line -> { });
    }

    /** As {@link #load(ModelFiles, String, int[])}, telling {@code progress} a line per loaded stage and layer. */
    public static LocalEngine load(ModelFiles files, String device, int[] shardBounds, Consumer<String> progress) {
        Tokenizer tokenizer = Tokenizers.load(files.llmDir());
        LlmConfig llm = files.llmConfig();
        int[] bounds = shardBounds != null ? shardBounds : new int[] {0, llm.numHiddenLayers()};
        VisionEncoder vision = VisionEncoder.load(files, device, progress);
        List<LlamaShard> shards = new ArrayList<>();
        try (TensorSource weights = files.openLlmWeights()) {
            for (int i = 0; i + 1 < bounds.length; i++) {
                shards.add(LlamaShard.load(llm, weights, bounds[i], bounds[i + 1], device, (start, end, loaded, total) ->
                        progress.accept("loading decoder layers " + start + "-" + end + ": layer " + loaded + "/"
                                + total)));
            }
            return new LocalEngine(files, tokenizer, vision, new LocalPipeline(shards));
        } catch (RuntimeException e) {
            shards.forEach(LlamaShard::close);
            vision.close();
            throw e;
        }
    }

    /** Which engine computes the decoder: "cpu" (Java on 16-bit weights) or "djl" (libtorch). */
    public String decoderEngine() {
        return pipeline.engineName();
    }

    public Generator generator() {
        return generator;
    }

    @Override
    public void close() {
        pipeline.close();
        vision.close();
    }
}
