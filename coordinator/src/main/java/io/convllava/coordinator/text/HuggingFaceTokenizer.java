package io.convllava.coordinator.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@code tokenizer.json} run by the HF {@code tokenizers} library through DJL. DJL's own special-token, truncation
 * and padding handling is switched off (it would silently cut prompts at {@code model_max_length} or 512); BOS/EOS are
 * added here from {@code tokenizer_config.json}'s {@code add_bos_token}/{@code add_eos_token}, as
 * {@code LlamaTokenizerFast} does. Thread-safe (the native tokenizer is immutable).
 */
public final class HuggingFaceTokenizer implements Tokenizer {

    public static final String TOKENIZER_JSON = "tokenizer.json";

    private final ai.djl.huggingface.tokenizers.HuggingFaceTokenizer delegate;
    private final SpecialTokenPolicy special;
    private final int vocabSize;

    /** Loads {@code tokenizerJson}; {@code config} supplies the BOS/EOS tokens and policy. */
    public static HuggingFaceTokenizer load(Path tokenizerJson, SpecialTokensConfig config) {
        Map<String, Integer> ids = tokenIds(tokenizerJson);
        int vocab = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        int bos = requireId(ids, config.bosToken(), "bos_token", tokenizerJson);
        int eos = requireId(ids, config.eosToken(), "eos_token", tokenizerJson);
        ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl;
        try {
            djl = ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.builder()
                    .optTokenizerPath(tokenizerJson)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new TokenizerLoadException("cannot load " + tokenizerJson + " with HF tokenizers: " + e.getMessage(), e);
        }
        return new HuggingFaceTokenizer(djl, new SpecialTokenPolicy(bos, eos, config), vocab);
    }

    private HuggingFaceTokenizer(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer delegate,
            SpecialTokenPolicy special, int vocabSize) {
        this.delegate = delegate;
        this.special = special;
        this.vocabSize = vocabSize;
    }

    /** Token text to id over {@code model.vocab} and {@code added_tokens} (the latter win, as in HF). */
    private static Map<String, Integer> tokenIds(Path file) {
        JsonObject root;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = JsonParser.parseReader(r).getAsJsonObject();
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new TokenizerLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Map<String, Integer> ids = new HashMap<>();
        JsonElement model = root.get("model");
        if (model == null || !model.isJsonObject() || !model.getAsJsonObject().has("vocab")
                || !model.getAsJsonObject().get("vocab").isJsonObject()) {
            throw new TokenizerLoadException(file + " has no model.vocab object");
        }
        for (Map.Entry<String, JsonElement> e : model.getAsJsonObject().getAsJsonObject("vocab").entrySet()) {
            ids.put(e.getKey(), e.getValue().getAsInt());
        }
        JsonElement added = root.get("added_tokens");
        if (added != null && added.isJsonArray()) {
            for (JsonElement t : added.getAsJsonArray()) {
                JsonObject o = t.getAsJsonObject();
                ids.put(o.get("content").getAsString(), o.get("id").getAsInt());
            }
        }
        return ids;
    }

    private static int requireId(Map<String, Integer> ids, String token, String key, Path file) {
        if (token == null) {
            throw new TokenizerLoadException(key + " is null in " + SpecialTokensConfig.TOKENIZER_CONFIG + " next to "
                    + file);
        }
        Integer id = ids.get(token);
        if (id == null) {
            throw new TokenizerLoadException(key + " \"" + token + "\" is not a token of " + file);
        }
        return id;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        long[] raw = delegate.encode(text, false, false).getIds();
        return special.encode(addBos, raw.length + 2, out -> {
            for (long id : raw) {
                out.add((int) id);
            }
        });
    }

    @Override
    public String decode(int[] ids) {
        long[] raw = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException("token id " + ids[i] + " is outside the vocabulary [0, "
                        + vocabSize + ")");
            }
            raw[i] = ids[i];
        }
        return delegate.decode(raw, true);
    }

    @Override
    public int bosId() {
        return special.bosId();
    }

    @Override
    public int eosId() {
        return special.eosId();
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    /** DJL's truncation setting, for checking that nothing cuts prompts short. */
    String truncation() {
        return delegate.getTruncation();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
