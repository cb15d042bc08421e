package io.convllava.coordinator.server;

import io.convllava.common.config.LlmConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.coordinator.text.Tokenizer;
import io.convllava.coordinator.text.Tokenizers;
import io.convllava.proto.v1.ModelInfo;

/**
 * What a coordinator needs of the model it serves: no weights, only the tokenizer and the shapes.
 *
 * @param id             the name clients pass as GenerateRequest.model
 * @param resolution     side of the square images are resized to
 * @param tokensPerImage sequence positions one image occupies
 */
public record ServedModel(String id, LlmConfig llm, Tokenizer tokenizer, int resolution, int tokensPerImage) {

    public static ServedModel load(String id, ModelFiles files) {
        int resolution = files.preprocessorConfig().outputResolution();
        int side = resolution / files.visionConfig().downsampleFactor();
        return new ServedModel(id, files.llmConfig(), Tokenizers.load(files.llmDir()), resolution, side * side);
    }

    public int numLayers() {
        return llm.numHiddenLayers();
    }

    public ModelInfo info() {
        return ModelInfo.newBuilder()
                .setId(id)
                .setNumLayers(llm.numHiddenLayers())
                .setHiddenSize(llm.hiddenSize())
                .setVocabSize(tokenizer.vocabSize())
                .setImageResolution(resolution)
                .setTokensPerImage(tokensPerImage)
                .setMaxSequenceLength(llm.maxPositionEmbeddings())
                .build();
    }
}
