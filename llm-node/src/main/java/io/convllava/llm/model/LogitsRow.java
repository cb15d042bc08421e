package io.convllava.llm.model;

import io.convllava.common.sampling.Sampler;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.HostTensor;
import io.convllava.llm.kernel.TokenPicker;
import java.util.Arrays;

/**
 * The float32 logits [vocab] of one position: {@code data[offset, offset + vocab)}. A row of a batched step
 * ({@link LlamaShard#forwardBatch}) lies in a buffer that the shard's next step overwrites, so that a step of many
 * sessions neither allocates nor copies a vocabulary-sized array per session: read it before then, or {@link #copy} it.
 */
public record LogitsRow(float[] data, int offset, int vocab) {
    public LogitsRow {
        if (offset < 0 || vocab < 0 || offset + vocab > data.length) {
            throw new IllegalArgumentException("logits [" + offset + ", " + (offset + vocab) + ") outside a buffer of "
                    + data.length);
        }
    }

    /** The logits of a whole array. */
    public static LogitsRow of(float[] logits) {
        return new LogitsRow(logits, 0, logits.length);
    }

    /** The token {@link Sampler#sample} picks from these logits (greedy ones on vector lanes, {@link TokenPicker}). */
    public int pick(SamplingParams p, int step) {
        return p.greedy() ? TokenPicker.argMax(data, offset, vocab) : Sampler.sample(copy(), p, step);
    }

    /** A copy of the logits, to keep. */
    public float[] copy() {
        return Arrays.copyOfRange(data, offset, offset + vocab);
    }

    /** A copy as a tensor [vocab]. */
    public HostTensor toTensor() {
        return HostTensor.of(copy(), vocab);
    }
}
