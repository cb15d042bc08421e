package io.convllava.coordinator.text;

import java.util.function.Consumer;

/**
 * The BOS and EOS ids and whether encoding with special tokens puts them around the text's ids
 * ({@code tokenizer_config.json}'s {@code add_bos_token} / {@code add_eos_token}, as in {@code LlamaTokenizerFast}).
 */
record SpecialTokenPolicy(int bosId, int eosId, boolean addBosToken, boolean addEosToken) {

    SpecialTokenPolicy(int bosId, int eosId, SpecialTokensConfig config) {
        this(bosId, eosId, config.addBosToken(), config.addEosToken());
    }

    /**
     * The ids {@code text} appends, with BOS before and EOS after them where {@code addSpecial} and the config ask.
     *
     * @param capacity a guess of the number of ids, to size the buffer
     */
    int[] encode(boolean addSpecial, int capacity, Consumer<IntList> text) {
        IntList out = new IntList(capacity);
        if (addSpecial && addBosToken) {
            out.add(bosId);
        }
        text.accept(out);
        if (addSpecial && addEosToken) {
            out.add(eosId);
        }
        return out.toArray();
    }
}
