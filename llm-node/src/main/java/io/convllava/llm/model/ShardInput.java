package io.convllava.llm.model;

import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;

import java.util.List;

/** What one {@link LlamaShard#forward} call consumes: prompt pieces on the first stage, hidden states on later ones. */
public sealed interface ShardInput {

    /** Number of new sequence positions this input adds. */
    int length();

    /** Positions [from, to) of this input, for running a long one in chunks. */
    ShardInput slice(int from, int to);

    /** First stage only: text tokens are embedded with {@code embed_tokens}, image embeddings are copied in, in order. */
    record Segments(List<PromptSegment> segments) implements ShardInput {
        public Segments {
            segments = List.copyOf(segments);
        }

        @Override
        public int length() {
            int n = 0;
            for (PromptSegment s : segments) {
                n += s.length();
            }
            return n;
        }

        @Override
        public ShardInput slice(int from, int to) {
            return new Segments(PromptSegment.slice(segments, from, to));
        }
    }

    /** Later stages: the previous stage's output, shape [T, H]. */
    record Hidden(HostTensor hidden) implements ShardInput {
        @Override
        public int length() {
            return hidden.rank() == 0 ? 0 : (int) hidden.dim(0);
        }

        @Override
        public ShardInput slice(int from, int to) {
            return from == 0 && to == length() ? this : new Hidden(hidden.rows(from, to));
        }
    }
}
