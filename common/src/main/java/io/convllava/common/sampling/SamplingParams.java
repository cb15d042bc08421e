package io.convllava.common.sampling;

/**
 * How the next token is chosen from the logits.
 *
 * @param temperature 0 means greedy (argmax); otherwise logits are divided by it before the softmax
 * @param topP        nucleus sampling mass in (0, 1]; 1 disables it
 * @param topK        keep only the k most likely tokens; 0 disables it
 * @param seed        the same seed (and inputs) gives the same tokens
 */
public record SamplingParams(float temperature, float topP, int topK, long seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0f, 1f, 0, 0L);

    public SamplingParams {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0 (0 = greedy), got "
                    + temperature);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("top_p must be in (0, 1] (1 = off), got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 disables it), got " + topK);
        }
    }

    public boolean greedy() {
        return temperature == 0f || topK == 1;
    }
}
