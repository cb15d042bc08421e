package io.convllava.cli.bench;

/** What the concurrent streams of a serving bench phase ask about; every phase gets images new to the cluster. */
public enum StreamImages {
    /** Every stream the same image: once vision nodes cache embeddings, one encode serves them all. */
    SAME,
    /** Each stream an image of its own (a variant of the bench image): every stream pays an encode. */
    DISTINCT,
    /** Text only: the vision nodes are not involved; the decoder pipeline alone. */
    NONE
}
