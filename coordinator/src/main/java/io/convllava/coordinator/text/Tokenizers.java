package io.convllava.coordinator.text;

import java.nio.file.Files;
import java.nio.file.Path;

/** Loads the tokenizer of a model folder, with the special tokens of its {@code tokenizer_config.json}. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /** {@code tokenizer.json} through HF tokenizers when present, else {@code tokenizer.model} in pure Java. */
    public static Tokenizer load(Path modelDir) {
        if (Files.isRegularFile(modelDir.resolve(HuggingFaceTokenizer.TOKENIZER_JSON))) {
            return loadHuggingFace(modelDir);
        }
        if (Files.isRegularFile(modelDir.resolve(SentencePieceTokenizer.MODEL_FILE))) {
            return loadSentencePiece(modelDir);
        }
        throw new TokenizerLoadException(modelDir + " has neither " + HuggingFaceTokenizer.TOKENIZER_JSON + " nor "
                + SentencePieceTokenizer.MODEL_FILE);
    }

    /** {@code modelDir/tokenizer.model}; {@code modelDir} may also be the model file itself. */
    public static SentencePieceTokenizer loadSentencePiece(Path modelDir) {
        Path file = Files.isDirectory(modelDir) ? modelDir.resolve(SentencePieceTokenizer.MODEL_FILE) : modelDir;
        return SentencePieceTokenizer.load(file, SpecialTokensConfig.load(configDir(file)));
    }

    /** {@code modelDir/tokenizer.json}; {@code modelDir} may also be the JSON file itself. */
    public static HuggingFaceTokenizer loadHuggingFace(Path modelDir) {
        Path file = Files.isDirectory(modelDir) ? modelDir.resolve(HuggingFaceTokenizer.TOKENIZER_JSON) : modelDir;
        if (!Files.isRegularFile(file)) {
            throw new TokenizerLoadException("no tokenizer file " + file);
        }
        return HuggingFaceTokenizer.load(file, SpecialTokensConfig.load(configDir(file)));
    }

    private static Path configDir(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent != null ? parent : Path.of(".");
    }
}
