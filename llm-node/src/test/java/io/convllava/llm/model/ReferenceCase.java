package io.convllava.llm.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.io.Npy;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.common.testing.Fixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One prompt of a fixture's {@code <fixture>-reference.json}, spliced without tokenizer or vision code: the recorded
 * {@code input_ids} with the -200 placeholder replaced by {@code <fixture>-projected.npy}.
 */
public record ReferenceCase(String fixture, int index, List<PromptSegment> prompt, float[] prefillLogits,
                            int[] greedyTokens, int stablePrefix) {
    static final int IMAGE_TOKEN = -200;

    public static List<ReferenceCase> load(String fixture) {
        JsonObject reference;
        try {
            reference = JsonParser.parseString(Files.readString(Fixtures.file(fixture, "reference.json")))
                    .getAsJsonObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        HostTensor projected = Npy.read(Fixtures.file(fixture, "projected.npy")); // [1, N, H]
        HostTensor image = HostTensor.of(projected.data(), projected.dim(1), projected.dim(2));
        JsonArray cases = reference.getAsJsonArray("cases");
        List<ReferenceCase> result = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            JsonObject c = cases.get(i).getAsJsonObject();
            result.add(new ReferenceCase(fixture, i, splice(ints(c.getAsJsonArray("input_ids")), image),
                    Npy.read(Fixtures.file(fixture, "case" + i + "-prefill-logits.npy")).data(),
                    ints(c.getAsJsonArray("greedy_tokens")), c.get("stable_prefix").getAsInt()));
        }
        return result;
    }

    private static List<PromptSegment> splice(int[] ids, HostTensor image) {
        List<PromptSegment> segments = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= ids.length; i++) {
            if (i == ids.length || ids[i] == IMAGE_TOKEN) {
                if (i > from) {
                    segments.add(new PromptSegment.Tokens(Arrays.copyOfRange(ids, from, i)));
                }
                if (i < ids.length) {
                    segments.add(new PromptSegment.Embeddings(image));
                }
                from = i + 1;
            }
        }
        return segments;
    }

    private static int[] ints(JsonArray array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).getAsInt();
        }
        return values;
    }

    public int sequenceLength() {
        return prompt.stream().mapToInt(PromptSegment::length).sum();
    }

    public int[] stableTokens() {
        return Arrays.copyOf(greedyTokens, stablePrefix);
    }

    @Override
    public String toString() {
        return fixture + " case " + index;
    }
}
