package io.convllava.coordinator.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.convllava.common.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every tokenizer file of the fixtures reproduces every id sequence and decoded text of every reference file.
 * Tests pass tokenizer names, not tokenizers: JUnit closes AutoCloseable arguments after each invocation.
 */
class ReferenceTokenizationTest {

    static Stream<Arguments> tokenizersAndReferences() {
        List<Arguments> args = new ArrayList<>();
        for (String name : TokenizerFixtures.all().keySet()) {
            for (String ref : TokenizerFixtures.REFERENCES) {
                args.add(Arguments.of(name, ref));
            }
        }
        return args.stream();
    }

    static Stream<Arguments> tokenizers() {
        return TokenizerFixtures.all().keySet().stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("tokenizersAndReferences")
    void promptsGiveTheReferenceInputIds(String name, String reference) {
        Tokenizer tokenizer = TokenizerFixtures.all().get(name);
        PromptBuilder builder = new PromptBuilder(tokenizer);
        JsonObject ref = TokenizerFixtures.reference(reference);
        assertFalse(ref.getAsJsonArray("cases").isEmpty());
        for (JsonElement c : ref.getAsJsonArray("cases")) {
            JsonObject cs = c.getAsJsonObject();
            String prompt = cs.get("prompt").getAsString();
            assertArrayEquals(TokenizerFixtures.ints(cs.get("input_ids")), builder.tokenizeWithImages(prompt),
                    name + ": " + prompt);
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("tokenizersAndReferences")
    void tokenizerCasesRoundTrip(String name, String reference) {
        Tokenizer tokenizer = TokenizerFixtures.all().get(name);
        JsonObject ref = TokenizerFixtures.reference(reference);
        assertFalse(ref.getAsJsonArray("tokenizer").isEmpty());
        for (JsonElement c : ref.getAsJsonArray("tokenizer")) {
            JsonObject cs = c.getAsJsonObject();
            String text = cs.get("text").getAsString();
            int[] ids = TokenizerFixtures.ints(cs.get("ids"));
            assertArrayEquals(ids, tokenizer.encode(text, true), name + ": " + text);
            assertEquals(cs.get("decoded").getAsString(), tokenizer.decode(ids), name + ": decode of " + text);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tokenizers")
    void knownLlamaIds(String name) {
        Tokenizer tokenizer = TokenizerFixtures.all().get(name);
        assertArrayEquals(new int[] {1, 29871, 2646, 1327, 287}, tokenizer.encode(" grabbed", true), name);
        assertArrayEquals(new int[] {1, 29871, 13}, tokenizer.encode("\n", true), name);
        assertArrayEquals(new int[] {1, 29871, 243, 162, 169, 156}, tokenizer.encode("\uD83E\uDD99", true), name);
        assertArrayEquals(new int[] {1, 15043, 3186, 29991}, tokenizer.encode("Hello world!", true), name);
        assertArrayEquals(new int[] {15043, 3186, 29991}, tokenizer.encode("Hello world!", false), name);
        assertEquals("\uD83E\uDD99", tokenizer.decode(new int[] {1, 29871, 243, 162, 169, 156}), name);
        assertEquals(1, tokenizer.bosId());
        assertEquals(2, tokenizer.eosId());
        assertEquals(32000, tokenizer.vocabSize());
    }

    /** The generator's checks in refgen-report.json: HF ids (no BOS) that SentencePiece itself also produced. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("tokenizers")
    void refgenSpmVersusJsonChecks(String name) {
        Tokenizer tokenizer = TokenizerFixtures.all().get(name);
        JsonObject report = TokenizerFixtures.readJson(Fixtures.root().resolve("holdout/refgen-report.json"));
        List<JsonElement> checks = report.getAsJsonArray("spm_vs_tokenizer_json").asList();
        assertEquals(16, checks.size());
        for (JsonElement c : checks) {
            JsonObject cs = c.getAsJsonObject();
            String text = cs.get("text").getAsString();
            assertArrayEquals(TokenizerFixtures.ints(cs.get("hf")), tokenizer.encode(text, false), name + ": " + text);
        }
    }

    @Test
    void llavaV1SwapsUserForHumanInTheReferenceIds() {
        JsonObject ref = TokenizerFixtures.reference("tiny-convllava");
        JsonObject case0 = ref.getAsJsonArray("cases").get(0).getAsJsonObject();
        int[] expected = TokenizerFixtures.ints(case0.get("input_ids"));
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == 1404) { // ▁user
                expected[i] = 5199;    // ▁human
            }
        }
        String question = ref.getAsJsonObject("spec").getAsJsonArray("cases").get(0).getAsJsonArray().get(0)
                .getAsString();
        String prompt = ConversationTemplate.LLAVA_V1.render(List.of(ChatMessage.user(question, 1)));
        for (Tokenizer t : TokenizerFixtures.all().values()) {
            assertArrayEquals(expected, new PromptBuilder(t).tokenizeWithImages(prompt));
        }
    }
}
