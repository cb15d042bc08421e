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
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code tokenizer_config.json} and {@code special_tokens_map.json} say about special tokens, with LLaMA's
 * defaults where a file or key is absent. Token values may be plain strings or serialized {@code AddedToken} objects.
 *
 * @param bosToken    text of the begin-of-sequence token, e.g. {@code <s>}
 * @param eosToken    text of the end-of-sequence token, e.g. {@code </s>}
 * @param addBosToken whether encoding with special tokens puts BOS in front ({@code add_bos_token})
 * @param addEosToken whether encoding with special tokens appends EOS ({@code add_eos_token})
 * @param addedTokens {@code added_tokens_decoder} entries plus the named special tokens, recognised in input text
 */
public record SpecialTokensConfig(
        String bosToken,
        String eosToken,
        String unkToken,
        boolean addBosToken,
        boolean addEosToken,
        List<AddedToken> addedTokens) {

    /**
     * A token matched literally in the input before the model sees the text.
     *
     * @param id      its id from {@code added_tokens_decoder}, or -1 when the config names only its text
     * @param special skipped by {@code decode}
     * @param lstrip  swallows the whitespace before it
     * @param rstrip  swallows the whitespace after it
     */
    public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip) {
    }

    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    public static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";

    /** Reads the two files in {@code dir}; either may be missing. */
    public static SpecialTokensConfig load(Path dir) {
        JsonObject config = readOptional(dir.resolve(TOKENIZER_CONFIG));
        JsonObject map = readOptional(dir.resolve(SPECIAL_TOKENS_MAP));
        String bos = tokenText(config, map, "bos_token", "<s>");
        String eos = tokenText(config, map, "eos_token", "</s>");
        String unk = tokenText(config, map, "unk_token", "<unk>");
        String pad = tokenText(config, map, "pad_token", null);

        List<AddedToken> added = new ArrayList<>();
        Path configFile = dir.resolve(TOKENIZER_CONFIG);
        if (config.has("added_tokens_decoder") && config.get("added_tokens_decoder").isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : config.getAsJsonObject("added_tokens_decoder").entrySet()) {
                added.add(addedToken(e.getKey(), e.getValue(), configFile));
            }
        }
        Set<String> named = new LinkedHashSet<>();
        for (String t : new String[] {bos, eos, unk, pad}) {
            if (t != null) {
                named.add(t);
            }
        }
        for (JsonObject source : List.of(config, map)) {
            JsonElement extra = source.get("additional_special_tokens");
            if (extra != null && extra.isJsonArray()) {
                for (JsonElement t : extra.getAsJsonArray()) {
                    String text = tokenText(t);
                    if (text != null) {
                        named.add(text);
                    }
                }
            }
        }
        for (String text : named) {
            if (added.stream().noneMatch(t -> t.content().equals(text))) {
                added.add(new AddedToken(-1, text, true, false, false));
            }
        }
        return new SpecialTokensConfig(bos, eos, unk,
                bool(config, "add_bos_token", true, configFile), bool(config, "add_eos_token", false, configFile),
                List.copyOf(added));
    }

    private static AddedToken addedToken(String key, JsonElement value, Path file) {
        int id;
        try {
            id = Integer.parseInt(key);
        } catch (NumberFormatException e) {
            throw new TokenizerLoadException(file + ": added_tokens_decoder key \"" + key + "\" is not a token id");
        }
        if (!value.isJsonObject() || !value.getAsJsonObject().has("content")) {
            throw new TokenizerLoadException(file + ": added_tokens_decoder." + key + " has no \"content\"");
        }
        JsonObject o = value.getAsJsonObject();
        return new AddedToken(id, o.get("content").getAsString(), bool(o, "special", false, file),
                bool(o, "lstrip", false, file), bool(o, "rstrip", false, file));
    }

    private static JsonObject readOptional(Path file) {
        if (!Files.isRegularFile(file)) {
            return new JsonObject();
        }
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement e = JsonParser.parseReader(r);
            if (!e.isJsonObject()) {
                throw new TokenizerLoadException(file + " is not a JSON object");
            }
            return e.getAsJsonObject();
        } catch (IOException | JsonParseException e) {
            throw new TokenizerLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** tokenizer_config.json wins over special_tokens_map.json; an explicit null means "no such token". */
    private static String tokenText(JsonObject config, JsonObject map, String key, String fallback) {
        for (JsonObject source : List.of(config, map)) {
            if (source.has(key)) {
                return tokenText(source.get(key));
            }
        }
        return fallback;
    }

    private static String tokenText(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (e.isJsonObject()) {
            JsonElement content = e.getAsJsonObject().get("content");
            return content == null || content.isJsonNull() ? null : content.getAsString();
        }
        return e.getAsString();
    }

    private static boolean bool(JsonObject o, String key, boolean fallback, Path file) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return fallback;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw new TokenizerLoadException(file + ": \"" + key + "\" must be true or false, got " + e);
        }
        return e.getAsBoolean();
    }
}
