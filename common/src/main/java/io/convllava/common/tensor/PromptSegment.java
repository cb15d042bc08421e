package io.convllava.common.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One piece of the decoder's input sequence as the first pipeline stage receives it: text token ids, or image
 * embeddings that take the place of an {@code <image>} placeholder (id -200).
 */
public sealed interface PromptSegment {

    /** Number of sequence positions this segment occupies. */
    int length();

    /** Positions [from, to) of this segment. */
    PromptSegment slice(int from, int to);

    /** Positions [from, to) of a sequence of segments, as segments. */
    static List<PromptSegment> slice(List<PromptSegment> segments, int from, int to) {
        List<PromptSegment> parts = new ArrayList<>();
        int start = 0;
        for (PromptSegment s : segments) {
            int end = start + s.length();
            int a = Math.max(from, start);
            int b = Math.min(to, end);
            if (a < b) {
                parts.add(a == start && b == end ? s : s.slice(a - start, b - start));
            }
            start = end;
        }
        return parts;
    }

    /** Text tokens, embedded with {@code embed_tokens} by the first stage. */
    record Tokens(int[] ids) implements PromptSegment {
        @Override
        public int length() {
            return ids.length;
        }

        @Override
        public PromptSegment slice(int from, int to) {
            return new Tokens(Arrays.copyOfRange(ids, from, to));
        }
    }

    /** Projected image embeddings, shape [tokens, hidden]. */
    record Embeddings(HostTensor embeddings) implements PromptSegment {
        @Override
        public int length() {
            return (int) embeddings.dim(0);
        }

        @Override
        public PromptSegment slice(int from, int to) {
            return new Embeddings(embeddings.rows(from, to));
        }
    }
}
