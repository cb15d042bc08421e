package io.convllava.coordinator.prefix;

import io.convllava.coordinator.text.PromptBuilder;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * What each position of a spliced prompt holds, one long per position: a text token by its id, an image row by the
 * image's content digest and the row. Two sequences give the same KV cache over their longest common prefix, so
 * this is what kept caches are matched by.
 */
public final class PromptContent {
    private PromptContent() {
    }

    /**
     * @param ids           prompt ids with {@link PromptBuilder#IMAGE_TOKEN} where each image goes
     * @param imageDigests  per image, a digest of its content (e.g. SHA-256 of its file bytes), in order
     * @param imageRows     per image, its number of embedding rows
     */
    public static long[] of(int[] ids, List<byte[]> imageDigests, List<Integer> imageRows) {
        int length = 0;
        int image = 0;
        for (int id : ids) {
            length += id == PromptBuilder.IMAGE_TOKEN ? imageRows.get(image++) : 1;
        }
        long[] content = new long[length];
        int at = 0;
        image = 0;
        for (int id : ids) {
            if (id != PromptBuilder.IMAGE_TOKEN) {
                content[at++] = id;
                continue;
            }
            long base = ByteBuffer.wrap(imageDigests.get(image)).getLong();
            for (int row = 0; row < imageRows.get(image); row++) {
                content[at++] = Long.MIN_VALUE | ((base + row) & Long.MAX_VALUE); // negative: never a token id
            }
            image++;
        }
        return content;
    }

    /** {@code content} followed by the first {@code count} of {@code tokens}. */
    public static long[] append(long[] content, int[] tokens, int count) {
        long[] out = Arrays.copyOf(content, content.length + count);
        for (int i = 0; i < count; i++) {
            out[content.length + i] = tokens[i];
        }
        return out;
    }

    /** Positions the two sequences share from the start. */
    static int commonPrefix(long[] a, long[] b) {
        int n = Math.min(a.length, b.length);
        int i = Arrays.mismatch(a, 0, n, b, 0, n);
        return i < 0 ? n : i;
    }
}
