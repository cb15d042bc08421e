package io.convllava.llm.node;

import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.ShardInput;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Runs throwaway sessions through freshly loaded layers before the node serves, so that the JIT has compiled the
 * decoder's kernels when the first request comes: a failover onto a pipeline that had never served waited 2-5 s
 * for them (docs/reliability.md). A prompt chunk for two sessions, then single-position steps of 1 to
 * {@value #MAX_BATCH} sessions together, the shapes of prefill and batched decode, until {@code steps} steps or
 * {@code budget} has passed after the first step (a 7B shard's step is long). The default runs enough steps for the
 * attention kernel's loops, a few dozen iterations per call and some tens of calls per step, to reach C2: until then
 * its vector code runs in the interpreter and C1, many times slower.
 */
final class ShardWarmUp {
    static final int PROMPT = 16;
    /** System property: warm-up steps (default {@value #DEFAULT_STEPS}; 0 = none). */
    static final String STEPS_PROPERTY = "convllava.warmUpSteps";
    static final int DEFAULT_STEPS = 128;
    static final Duration BUDGET = Duration.ofSeconds(3);
    /**
     * Decode batches of 1 to this many sessions take turns: each size runs its own mix of the kernel's input groups
     * (one, four, eight inputs, the last group 2 to 4 full), so every branch of them is taken before the JIT's final
     * compile. A branch first taken under serving load made C2 throw its code away mid-stream (docs/benchmarks.md).
     */
    static final int MAX_BATCH = 8;
    /** Steps after which the warm-up's sessions start over: at most this many positions each (plus the prompt). */
    static final int RESTART_STEPS = 16;
    /**
     * Token ids of the warm-up's prompts are drawn from [3, 3 + this): the embedding table stays in the checkpoint's
     * memory map, and rows drawn from the whole vocabulary would page most of it in (the kernel maps 64 KB around
     * each row read).
     */
    static final int TOKEN_IDS = 256;

    private ShardWarmUp() {
    }

    /** The steps {@value #STEPS_PROPERTY} asks for. */
    static int steps() {
        String value = System.getProperty(STEPS_PROPERTY, String.valueOf(DEFAULT_STEPS));
        try {
            int steps = Integer.parseInt(value.trim());
            if (steps >= 0) {
                return steps;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException("system property " + STEPS_PROPERTY + " must be a whole number >= 0, got '"
                + value + "'");
    }

    /** Returns the steps run; the shard holds no session afterwards. */
    static int run(LlamaShard shard, int hiddenSize, int vocabSize, int steps, Duration budget) {
        SplittableRandom random = new SplittableRandom(1);
        List<String> sessions = IntStream.range(0, MAX_BATCH).mapToObj(i -> "warm-up-" + i).toList();
        long deadline = Long.MAX_VALUE;
        int done = 0;
        try {
            while (done < steps && System.nanoTime() < deadline) {
                // step 0: two prompt chunks; then decode batches of 1, 2, ..., MAX_BATCH sessions in turn
                int batch = done == 0 ? 2 : 1 + (done - 1) % MAX_BATCH;
                int rows = done == 0 ? PROMPT : 1;
                List<LlamaShard.StepPart> parts = new ArrayList<>();
                for (String session : sessions.subList(0, batch)) {
                    parts.add(new LlamaShard.StepPart(session, input(shard, rows, hiddenSize, vocabSize, random)));
                }
                shard.forwardBatch(parts);
                if (done == 0) {
                    // the first step initialises what every later one reuses, and may take seconds: not counted
                    deadline = System.nanoTime() + budget.toNanos();
                }
                done++;
                if (done % RESTART_STEPS == 0) {
                    sessions.forEach(shard::release); // bounds the KV cache the warm-up holds
                }
            }
        } finally {
            sessions.forEach(shard::release);
        }
        return done;
    }

    private static ShardInput input(LlamaShard shard, int rows, int hiddenSize, int vocabSize,
                                    SplittableRandom random) {
        if (shard.isFirst()) {
            int[] tokens = random.ints(rows, 3, Math.min(vocabSize, 3 + TOKEN_IDS)).toArray();
            return new ShardInput.Segments(List.of(new PromptSegment.Tokens(tokens)));
        }
        float[] hidden = new float[rows * hiddenSize];
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = (float) random.nextGaussian();
        }
        return new ShardInput.Hidden(HostTensor.of(hidden, rows, hiddenSize));
    }
}
