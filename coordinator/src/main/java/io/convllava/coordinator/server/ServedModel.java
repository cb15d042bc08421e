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
 * @param maxPromptTokens the longest prompt accepted, images included: the checkpoint's
 *                        {@code tokenizer_model_max_length} unless the operator raised it
 */
public record ServedModel(String id, LlmConfig llm, Tokenizer tokenizer, int resolution, int tokensPerImage,
                          int maxPromptTokens) {

    public static ServedModel load(String id, ModelFiles files) {
        int resolution = files.preprocessorConfig().outputResolution();
        int side = resolution / files.visionConfig().downsampleFactor();
        LlmConfig llm = files.llmConfig();
        return new ServedModel(id, llm, Tokenizers.load(files.llmDir()), resolution, side * side,
                llm.tokenizerModelMaxLength());
    }

    /**
     * The same model accepting prompts of up to {@code tokens} positions: tokenizer_model_max_length is the length
     * the model was trained on (2048 for the released checkpoints), the decoder itself takes max_position_embeddings
     * (4096).
     */
    public ServedModel withMaxPromptTokens(int tokens) {
        if (tokens < 1 || tokens > llm.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("a prompt limit of " + tokens + " tokens is outside [1, "
                    + llm.maxPositionEmbeddings() + "] (the model's max_position_embeddings)");
        }
        return new ServedModel(id, llm, tokenizer, resolution, tokensPerImage, tokens);
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
