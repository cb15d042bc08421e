package io.convllava.common.config;

/**
 * The decoder ({@code config.json} of the LLM repo) with the multimodal {@code mm_*} fields ConvLLaVA adds.
 *
 * @param mmVisionTower relative path, absolute path or hub id of the vision tower, as written in the config
 */
public record LlmConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int eosTokenId,
        int padTokenId,
        String torchDtype,
        String mmVisionTower,
        int mmHiddenSize,
        String mmProjectorType,
        int mmVisionSelectLayer,
        String imageAspectRatio,
        boolean mmUseImStartEnd,
        int tokenizerModelMaxLength) {

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }
}
