package io.convllava.llm.schedule;

import io.convllava.common.tensor.HostTensor;
import io.convllava.llm.model.LogitsRow;
import io.convllava.llm.model.ShardInput;
import io.convllava.llm.model.ShardOutput;
import io.grpc.Status;

import java.util.function.BooleanSupplier;

/**
 * One Forward of one session on this stage, as the {@link StepScheduler} runs it: a decode is one step, a long prompt
 * several (one chunk per step). It collects the output of its chunks: every row's hidden state on a stage with later
 * layers, the logits of the last position on the last stage. Subclasses say where the answer goes.
 */
public abstract class StepJob {
    private final String sessionId;
    private final ShardInput input;
    private final int reservePositions;
    private final BooleanSupplier cancelled;
    private final int length;
    private final String reuseKey;
    private final int reuseLength;
    private int done;
    private float[] hidden; // [length, H], non-last stages
    private LogitsRow logits;

    /**
     * @param reservePositions positions the session may grow to (prompt plus new tokens): a new session is admitted
     *                         once KV memory for this many positions is free
     * @param cancelled        whether the caller gave up: checked between steps
     */
    protected StepJob(String sessionId, ShardInput input, int reservePositions, BooleanSupplier cancelled) {
        this(sessionId, input, reservePositions, cancelled, null, 0);
    }

    /**
     * A new session continuing from the cache kept under {@code reuseKey}: its first {@code reuseLength} positions
     * stand for the start of the prompt, {@code input} holds the rest.
     */
    protected StepJob(String sessionId, ShardInput input, int reservePositions, BooleanSupplier cancelled,
                      String reuseKey, int reuseLength) {
        this.reuseKey = reuseKey;
        this.reuseLength = reuseLength;
        this.sessionId = sessionId;
        this.input = input;
        this.length = input.length();
        this.reservePositions = Math.max(reservePositions, length);
        this.cancelled = cancelled;
    }

    public String sessionId() {
        return sessionId;
    }

    /** Positions this job feeds. */
    public int length() {
        return length;
    }

    /** The kept cache this new session continues from, or null. */
    String reuseKey() {
        return reuseKey;
    }

    int reuseLength() {
        return reuseLength;
    }

    ShardInput input() {
        return input;
    }

    int reservePositions() {
        return reservePositions;
    }

    boolean isCancelled() {
        return cancelled.getAsBoolean();
    }

    /** Positions still to run. */
    int remaining() {
        return length - done;
    }

    /** The next chunk of at most {@code chunk} positions. */
    ShardInput nextChunk(int chunk) {
        return input.slice(done, done + Math.min(chunk, remaining()));
    }

    /** Takes the output of the chunk just run ({@code rows} positions). */
    void accept(ShardOutput output, int rows) {
        if (output.hidden() != null) {
            if (rows == length) {
                hidden = output.hidden().data();
            } else {
                if (hidden == null) {
                    hidden = new float[length * (int) output.hidden().dim(1)];
                }
                System.arraycopy(output.hidden().data(), 0, hidden, done * (int) output.hidden().dim(1),
                        output.hidden().data().length);
            }
        }
        logits = output.logits();
        done += rows;
    }

    /** After the last chunk: the hidden states [length, H] of every position (null on the last stage). */
    public HostTensor hidden() {
        return hidden == null ? null : HostTensor.of(hidden, length, hidden.length / length);
    }

    /**
     * After the last chunk, on the last stage: the logits [vocab] of the last position, valid until the shard's next
     * step (read them when told the job finished).
     */
    public LogitsRow logits() {
        return logits;
    }

    /** The job could not run (or not to its end); the scheduler has already released the session on this stage. */
    protected abstract void failed(Status status);
}
