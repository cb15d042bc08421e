package io.convllava.coordinator.text;

/**
 * Text to LLaMA token ids and back, identical to Hugging Face {@code tokenizers} on the model's files. Thread-safe.
 */
public interface Tokenizer extends AutoCloseable {

    /**
     * Token ids of {@code text}. Special tokens written in the text ({@code <s>}, {@code </s>}, {@code <unk>}) become
     * their ids, as in HF; every other stretch of text gets its own SentencePiece dummy prefix.
     *
     * @param addBos add the special tokens the tokenizer config asks for ({@code add_bos_token}, default true;
     *               {@code add_eos_token}, default false), like HF's {@code add_special_tokens=True}
     */
    int[] encode(String text, boolean addBos);

    /** Text of {@code ids} with special tokens skipped, like HF {@code decode(ids, skip_special_tokens=True)}. */
    String decode(int[] ids);

    int bosId();

    int eosId();

    int vocabSize();

    /** Frees native resources, if any. */
    @Override
    default void close() {
    }
}
