package io.convllava.common.tensor;

/**
 * One piece of the decoder's input sequence as the first pipeline stage receives it: text token ids, or image
 * embeddings that take the place of an {@code <image>} placeholder (id -200).
 */
public sealed interface PromptSegment {

    /** Number of sequence positions this segment occupies. */
    int length();

    /** Text tokens, embedded with {@code embed_tokens} by the first stage. */
    record Tokens(int[] ids) implements PromptSegment {
        @Override
        public int length() {
            return ids.length;
        }
    }

    /** Projected image embeddings, shape [tokens, hidden]. */
    record Embeddings(HostTensor embeddings) implements PromptSegment {
        @Override
        public int length() {
            return (int) embeddings.dim(0);
        }
    }
}
