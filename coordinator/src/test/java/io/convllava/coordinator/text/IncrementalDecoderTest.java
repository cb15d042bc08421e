package io.convllava.coordinator.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class IncrementalDecoderTest {

    static Stream<String> tokenizers() {
        return Stream.of("tiny tokenizer.json", "tiny tokenizer.model");
    }

    private static Tokenizer tokenizer(String name) {
        return TokenizerFixtures.all().get(name);
    }

    private static List<String> stream(Tokenizer t, int[] ids) {
        IncrementalDecoder d = new IncrementalDecoder(t);
        List<String> deltas = new ArrayList<>();
        for (int id : ids) {
            deltas.add(d.push(id));
        }
        deltas.add(d.flush());
        return deltas;
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void emojiSplitOverFourByteTokensComesOutWhole(String name) {
        // "▁", <0xF0>, <0x9F>, <0xA6>, <0x99> = " 🦙"; then "▁world"
        List<String> deltas = stream(tokenizer(name), new int[] {29871, 243, 162, 169, 156, 3186});
        assertEquals(List.of("", "", "", "", "\uD83E\uDD99", " world", ""), deltas);
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void deltasConcatenateToTheFullDecodeWithEverySpaceKept(String name) {
        Tokenizer t = tokenizer(name);
        String text = "Hello world! The llama \uD83E\uDD99 says caf\u00e9 \u65e5\u672c\u8a9e\n  indented\tline [0.12, 0.34]";
        int[] generated = append(t.encode(text, false), t.eosId());
        List<String> deltas = stream(t, generated);
        assertEquals(t.decode(generated), String.join("", deltas));
        assertEquals(text, String.join("", deltas));
        assertEquals("Hello", deltas.get(0)); // first token: leading space stripped like a full decode
        assertEquals(" world", deltas.get(1)); // later tokens: their space stays
        for (String d : deltas) {
            assertFalse(d.contains("\uFFFD"), "half a character was emitted: " + deltas);
        }
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void flushGivesReplacementCharactersForAnUnfinishedCharacter(String name) {
        List<String> deltas = stream(tokenizer(name), new int[] {15043, 243, 162});
        assertEquals(List.of("Hello", "", "", "\uFFFD\uFFFD"), deltas);
    }

    private static int[] append(int[] ids, int id) {
        int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = id;
        return out;
    }
}
