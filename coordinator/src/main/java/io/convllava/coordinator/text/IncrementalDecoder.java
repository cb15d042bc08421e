package io.convllava.coordinator.text;

/**
 * Turns a stream of generated token ids into text deltas whose concatenation is {@code tokenizer.decode(all ids)}.
 * A delta is held back while the text ends in U+FFFD (a character whose UTF-8 bytes are still arriving as byte
 * tokens). Each step decodes a small window that starts one emitted token back, so the decoder's "strip the first
 * leading space" rule applies to the window's first token in both decodes and a word's space is never lost (the
 * scheme of HF text-generation-inference). Not thread-safe: one instance per generated sequence.
 */
public final class IncrementalDecoder {

    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private final IntList ids = new IntList(64);
    private int prefixOffset; // window start: the last token already turned into text
    private int readOffset;   // tokens before this are in the emitted text

    public IncrementalDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds one generated token; returns the new text, or "" if nothing complete can be shown yet. */
    public String push(int id) {
        ids.add(id);
        return delta(false);
    }

    /** At the end of generation: whatever is still held back (an unfinished character becomes U+FFFD). */
    public String flush() {
        return delta(true);
    }

    private String delta(boolean force) {
        String prefix = tokenizer.decode(ids.slice(prefixOffset, readOffset));
        String text = tokenizer.decode(ids.slice(prefixOffset, ids.size()));
        boolean incomplete = !text.isEmpty() && text.charAt(text.length() - 1) == REPLACEMENT;
        if (text.length() <= prefix.length() || (incomplete && !force)) {
            return "";
        }
        prefixOffset = readOffset;
        readOffset = ids.size();
        return text.substring(prefix.length());
    }
}
