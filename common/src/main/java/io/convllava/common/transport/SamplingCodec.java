package io.convllava.common.transport;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.proto.v1.SamplingOptions;

/** {@link SamplingParams} to and from the wire {@link SamplingOptions} (top_p 0 = unset = 1). */
public final class SamplingCodec {
    private SamplingCodec() {
    }

    public static SamplingOptions encode(SamplingParams params) {
        return SamplingOptions.newBuilder()
                .setTemperature(params.temperature())
                .setTopP(params.topP())
                .setTopK(params.topK())
                .setSeed(params.seed())
                .build();
    }

    /**
     * Decodes options whose seed is already fixed (absent = 0). Invalid values throw
     * {@link IllegalArgumentException} naming the field, e.g. {@code sampling.top_p}.
     */
    public static SamplingParams decode(SamplingOptions options) {
        return decode(options, 0L);
    }

    /** As {@link #decode(SamplingOptions)}, using {@code seedIfAbsent} when the options carry no seed. */
    public static SamplingParams decode(SamplingOptions options, long seedIfAbsent) {
        float topP = options.getTopP() == 0f ? 1f : options.getTopP();
        long seed = options.hasSeed() ? options.getSeed() : seedIfAbsent;
        try {
            return new SamplingParams(options.getTemperature(), topP, options.getTopK(), seed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sampling." + e.getMessage(), e);
        }
    }
}
