package io.convllava.coordinator.generate;

/** Receives generated tokens as they come, with the text they complete (possibly empty). */
@FunctionalInterface
public interface TokenListener {
    void onToken(int tokenId, String textDelta);

    TokenListener NONE = (id, delta) -> { };
}
