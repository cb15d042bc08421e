package io.convllava.common.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/** The tensor key lists recorded in a fixture's {@code <fixture>-reference.json}. */
public final class FixtureKeys {
    private FixtureKeys() {
    }

    /** {@code state_dict_keys}: every key of the LLM checkpoint as stored. */
    public static Set<String> stateDict(String fixture) {
        return read(fixture, "state_dict_keys");
    }

    /** {@code vision_tower_keys} (unprefixed ConvNextModel keys) without the unused final {@code layernorm.*}. */
    public static Set<String> visionTowerUsed(String fixture) {
        Set<String> keys = new TreeSet<>(read(fixture, "vision_tower_keys"));
        keys.removeIf(k -> k.startsWith("layernorm."));
        return Collections.unmodifiableSet(keys);
    }

    private static Set<String> read(String fixture, String field) {
        try {
            JsonArray keys = JsonParser.parseString(Files.readString(Fixtures.file(fixture, "reference.json")))
                    .getAsJsonObject().getAsJsonArray(field);
            Set<String> result = new TreeSet<>();
            keys.forEach(k -> result.add(k.getAsString()));
            return Collections.unmodifiableSet(result);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
