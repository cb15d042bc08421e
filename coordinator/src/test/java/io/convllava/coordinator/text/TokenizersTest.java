package io.convllava.coordinator.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.convllava.common.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which file {@link Tokenizers#load} picks, and how the special-token config files change encoding. */
class TokenizersTest {

    @TempDir
    Path dir;

    @Test
    void prefersTokenizerJsonAndFallsBackToTokenizerModel() {
        try (Tokenizer json = Tokenizers.load(Fixtures.tinyModel())) {
            HuggingFaceTokenizer hf = assertInstanceOf(HuggingFaceTokenizer.class, json);
            assertEquals("DO_NOT_TRUNCATE", hf.truncation());
        }
        Path hubtiny = TokenizerFixtures.snapshot(Fixtures.hubtinyCache(), "ConvLLaVA/ConvLLaVA-sft-tiny");
        assertInstanceOf(SentencePieceTokenizer.class, Tokenizers.load(hubtiny));
    }

    @Test
    void missingFilesAreNamed() {
        TokenizerLoadException e = assertThrows(TokenizerLoadException.class, () -> Tokenizers.load(dir));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("tokenizer.model"),
                e.getMessage());
        e = assertThrows(TokenizerLoadException.class, () -> Tokenizers.loadHuggingFace(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void withoutConfigFilesLlamaDefaultsApply() throws IOException {
        copyModel();
        Tokenizer t = Tokenizers.load(dir);
        assertArrayEquals(new int[] {1, 1, 29871, 451, 4266, 29871, 2}, t.encode("<s> not special </s>", true));
        assertEquals(" not special ", t.decode(new int[] {1, 1, 29871, 451, 4266, 29871, 2}));
    }

    @Test
    void addedTokenObjectsAndEosPolicyFromTokenizerConfig() throws IOException {
        copyModel();
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"add_bos_token": true, "add_eos_token": true,
                 "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false, "rstrip": false},
                 "eos_token": {"__type": "AddedToken", "content": "</s>"},
                 "unk_token": "<unk>",
                 "added_tokens_decoder": {"32000": {"content": "<image>", "special": false, "rstrip": true}}}
                """);
        Tokenizer t = Tokenizers.load(dir);
        assertEquals(32001, t.vocabSize());
        assertArrayEquals(new int[] {1, 15043, 32000, 3186, 2}, t.encode("Hello<image>  world", true));
        assertArrayEquals(new int[] {15043, 32000, 3186}, t.encode("Hello<image>  world", false));
        assertEquals("Hello<image> world", t.decode(new int[] {1, 15043, 32000, 3186, 2}));
    }

    @Test
    void specialTokenMissingFromTheVocabularyIsNamed() throws IOException {
        copyModel();
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"bos_token\": \"<bos>\"}");
        TokenizerLoadException e = assertThrows(TokenizerLoadException.class, () -> Tokenizers.load(dir));
        assertTrue(e.getMessage().contains("<bos>"), e.getMessage());
    }

    private void copyModel() throws IOException {
        Files.copy(Fixtures.tinyModel().resolve("tokenizer.model"), dir.resolve("tokenizer.model"));
    }
}
