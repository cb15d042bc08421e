package io.convllava.common.pipeline;

/**
 * How a prefill asks the stages to hold its session.
 *
 * @param reservePositions positions the session may reach (prompt plus new tokens): stages admit it only with KV
 *                         memory for all of them; 0 = let the stages decide
 * @param reuseKey         a cache kept by an earlier session ({@link DecoderPipeline#release(String, String)}) to
 *                         continue from, or null
 * @param reuseLength      how many of the kept cache's positions stand for the start of this prompt; the segments
 *                         then hold only the positions after them
 */
public record PrefillOptions(int reservePositions, String reuseKey, int reuseLength) {
    public static final PrefillOptions NONE = new PrefillOptions(0, null, 0);

    public static PrefillOptions reserve(int positions) {
        return new PrefillOptions(positions, null, 0);
    }

    public PrefillOptions continuing(String key, int length) {
        return new PrefillOptions(reservePositions, key, length);
    }

    public boolean reuses() {
        return reuseKey != null;
    }
}
