package io.convllava.llm.cpu;

/** Checkpoint keys outside the decoder layers. */
final class Names {
    static final String EMBEDDING = "model.embed_tokens.weight";
    static final String FINAL_NORM = "model.norm.weight";
    static final String LM_HEAD = "lm_head.weight";

    private Names() {
    }
}
