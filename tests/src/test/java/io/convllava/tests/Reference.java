package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.io.Npy;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.testing.Fixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A fixture's {@code -reference.json} and the checks of its README tolerances. */
final class Reference {
    final String fixture;
    final JsonObject json;

    Reference(String fixture) {
        this.fixture = fixture;
        try {
            this.json = JsonParser.parseString(Files.readString(Fixtures.file(fixture, "reference.json")))
                    .getAsJsonObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonObject testCase(int i) {
        return json.getAsJsonArray("cases").get(i).getAsJsonObject();
    }

    /** The user's question of case i: the text between "USER: " (and the image placeholder) and " ASSISTANT:". */
    String question(int i) {
        String prompt = testCase(i).get("prompt").getAsString();
        String q = prompt.substring(prompt.indexOf("USER: ") + 6, prompt.lastIndexOf(" ASSISTANT:"));
        return q.startsWith("<image>\n") ? q.substring(8) : q;
    }

    boolean withImage(int i) {
        return testCase(i).get("with_image").getAsBoolean();
    }

    Path image() {
        return Fixtures.file(fixture, "image.png");
    }

    HostTensor npy(String suffix) {
        return Npy.read(Fixtures.file(fixture, suffix));
    }

    static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    /** The generated tokens equal the reference's greedy tokens for the first stable_prefix tokens. */
    void assertGreedyPrefix(int caseIndex, int[] tokens) {
        JsonObject c = testCase(caseIndex);
        int stable = c.get("stable_prefix").getAsInt();
        int[] expected = ints(c.getAsJsonArray("greedy_tokens"));
        assertTrue(tokens.length >= stable, fixture + " case " + caseIndex + ": only " + tokens.length
                + " tokens generated, stable prefix is " + stable);
        assertArrayEquals(java.util.Arrays.copyOf(expected, stable), java.util.Arrays.copyOf(tokens, stable),
                fixture + " case " + caseIndex + ": greedy tokens differ within the stable prefix");
    }

    static float maxAbsDiff(float[] a, float[] b) {
        assertTrue(a.length == b.length, "length " + a.length + " vs " + b.length);
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    static float meanAbsDiff(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs(a[i] - b[i]);
        }
        return (float) (sum / a.length);
    }

    static float maxAbs(float[] a) {
        float max = 0;
        for (float v : a) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
