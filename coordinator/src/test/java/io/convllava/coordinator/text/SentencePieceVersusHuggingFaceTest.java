package io.convllava.coordinator.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pure-Java SentencePiece tokenizer against HF {@code tokenizers} (through DJL) on the same LLaMA vocabulary:
 * seeded random texts that stress whitespace runs, byte fallback, digits, special tokens and mixed scripts.
 */
class SentencePieceVersusHuggingFaceTest {

    private static final String[] FRAGMENTS = {
        " ", "  ", "   ", "          ", "\t", "\n", "\n\n", " \n", "\r\n", "a", "the", " the", "The", "grabbed",
        "Hello", " world", "!", "?", ".", ",", "'s", "ASSISTANT:", "USER:", "0", "12", "3.14159", "2048", "[0.12, 0.34]",
        "café", "naïve", "Ünïcödé", "日本語", "镇", "中文字符", "Привет", "مرحبا", "नमस्ते", "\uD83E\uDD99", "\uD83D\uDE00",
        "\uD83D\uDC4D\uD83C\uDFFD", "\u2581", "\u2581\u2581x", "<s>", "</s>", "<unk>", "<image>", "<0x0A>", "<", "s>",
        "####", "----", "```", "{\"k\": 1}", "e\u0301", "\u00a0", "\u3000", "\u200b", "x", "q", "z", "supercalifragilistic",
    };

    @Test
    void randomTextsEncodeAndDecodeIdentically() {
        Tokenizer hf = TokenizerFixtures.hfJson();
        Tokenizer spm = TokenizerFixtures.spm();
        Random random = new Random(20240729);
        for (int n = 0; n < 400; n++) {
            StringBuilder sb = new StringBuilder();
            int parts = 1 + random.nextInt(12);
            for (int i = 0; i < parts; i++) {
                sb.append(random.nextInt(8) == 0 ? randomCodePoint(random) : FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
            }
            String text = sb.toString();
            boolean addBos = random.nextBoolean();
            int[] expected = hf.encode(text, addBos);
            assertArrayEquals(expected, spm.encode(text, addBos), () -> "encode " + escape(text));
            assertEquals(hf.decode(expected), spm.decode(expected), () -> "decode " + escape(text));
        }
    }

    @Test
    void randomIdSequencesDecodeIdentically() {
        Tokenizer hf = TokenizerFixtures.hfJson();
        Tokenizer spm = TokenizerFixtures.spm();
        Random random = new Random(7);
        for (int n = 0; n < 300; n++) {
            int[] ids = new int[1 + random.nextInt(10)];
            for (int i = 0; i < ids.length; i++) {
                // bias towards specials, byte pieces (3..258) and whitespace pieces
                ids[i] = switch (random.nextInt(4)) {
                    case 0 -> random.nextInt(3);
                    case 1 -> 3 + random.nextInt(256);
                    case 2 -> new int[] {29871, 259, 1678, 13, 29889}[random.nextInt(5)];
                    default -> random.nextInt(32000);
                };
            }
            assertEquals(hf.decode(ids), spm.decode(ids), () -> java.util.Arrays.toString(ids));
        }
    }

    @Test
    void longPromptIsNeitherTruncatedNorDifferent() {
        Tokenizer hf = TokenizerFixtures.hfJson();
        Tokenizer spm = TokenizerFixtures.spm();
        StringBuilder sb = new StringBuilder(ConversationTemplate.VICUNA_V1.system());
        Random random = new Random(3);
        while (sb.length() < 30_000) {
            sb.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]).append(' ');
        }
        String text = sb.toString();
        int[] ids = hf.encode(text, true);
        assertTrue(ids.length > 4096, "long enough to catch DJL's 512 / model_max_length truncation: " + ids.length);
        assertArrayEquals(ids, spm.encode(text, true));
        assertEquals(hf.decode(ids), spm.decode(ids));
    }

    private static String randomCodePoint(Random random) {
        int[] ranges = {0x20, 0x7f, 0xa0, 0x250, 0x400, 0x4ff, 0x4e00, 0x9fff, 0x1f300, 0x1faff, 0xac00, 0xd7a3};
        int r = random.nextInt(ranges.length / 2) * 2;
        return new String(Character.toChars(ranges[r] + random.nextInt(ranges[r + 1] - ranges[r])));
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> sb.append(c >= 0x20 && c < 0x7f ? Character.toString(c)
                : String.format("\\u{%x}", c)));
        return sb.append('"').toString();
    }
}
