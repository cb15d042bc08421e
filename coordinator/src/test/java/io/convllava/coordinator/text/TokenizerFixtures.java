package io.convllava.coordinator.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The fixtures' tokenizer files, loaded once per JVM, and readers for their reference JSON. */
final class TokenizerFixtures {
    private TokenizerFixtures() {
    }

    /** Reference files holding prompts, input_ids and tokenizer round trips. */
    static final List<String> REFERENCES = List.of("tiny-convllava", "hubtiny-convllava", "holdout-convllava");

    private static Map<String, Tokenizer> all;

    /** Every tokenizer the fixtures ship, by a readable name: tiny's tokenizer.json and each tokenizer.model. */
    static synchronized Map<String, Tokenizer> all() {
        if (all == null) {
            Map<String, Tokenizer> m = new LinkedHashMap<>();
            m.put("tiny tokenizer.json", Tokenizers.loadHuggingFace(Fixtures.tinyModel()));
            m.put("tiny tokenizer.model", Tokenizers.loadSentencePiece(Fixtures.tinyModel()));
            m.put("hubtiny tokenizer.model",
                    Tokenizers.loadSentencePiece(snapshot(Fixtures.hubtinyCache(), "ConvLLaVA/ConvLLaVA-sft-tiny")));
            m.put("holdout tokenizer.model",
                    Tokenizers.loadSentencePiece(snapshot(Fixtures.holdoutCache(), "ConvLLaVA/ConvLLaVA-sft-384")));
            all = m;
        }
        return all;
    }

    static Tokenizer hfJson() {
        return all().get("tiny tokenizer.json");
    }

    static Tokenizer spm() {
        return all().get("tiny tokenizer.model");
    }

    /** {@code hub/models--ORG--NAME/snapshots/<refs/main>}. */
    static Path snapshot(Path hubCache, String repo) {
        Path base = hubCache.resolve("models--" + repo.replace("/", "--"));
        try {
            String rev = Files.readString(base.resolve("refs/main"), StandardCharsets.UTF_8).trim();
            return base.resolve("snapshots").resolve(rev);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonObject reference(String fixture) {
        return readJson(Fixtures.file(fixture, "reference.json"));
    }

    static JsonObject readJson(Path file) {
        try {
            return JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonElement array) {
        JsonArray a = array.getAsJsonArray();
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }
}
