package io.convllava.llm.server;

import io.convllava.llm.schedule.BatchLimits;

import java.time.Duration;

/**
 * How an llm node admits and batches work.
 *
 * @param nodeId      this node's id, used in error messages
 * @param limits      batch size, tokens per step, KV budget and sessions held at once (see {@link BatchLimits})
 * @param layersEpoch the plan epoch that gave this node its layers: a request routed by an older (non-zero) epoch
 *                    gets FAILED_PRECONDITION, its caller routed by a plan in which these layers were elsewhere;
 *                    0 when the node's layers are fixed (nothing is checked)
 * @param sessionIdle a session no step has touched for this long is released: its coordinator died or lost it
 *                    without a Release, and its KV cache would otherwise stay forever
 */
public record LlmNodeSettings(String nodeId, BatchLimits limits, long layersEpoch, Duration sessionIdle) {

    public static final int DEFAULT_MAX_SESSIONS = BatchLimits.DEFAULT_MAX_SESSIONS;
    public static final Duration DEFAULT_SESSION_IDLE = Duration.ofMinutes(10);

    public LlmNodeSettings(String nodeId, int maxSessions, long layersEpoch) {
        this(nodeId, BatchLimits.DEFAULTS.withMaxSessions(maxSessions), layersEpoch, DEFAULT_SESSION_IDLE);
    }

    public LlmNodeSettings {
        if (nodeId == null || nodeId.isBlank()) {
            throw new IllegalArgumentException("nodeId must not be empty");
        }
        if (limits == null) {
            throw new IllegalArgumentException("limits must not be null");
        }
        if (layersEpoch < 0) {
            throw new IllegalArgumentException("layersEpoch must not be negative, got " + layersEpoch);
        }
        if (sessionIdle == null || sessionIdle.isNegative() || sessionIdle.isZero()) {
            throw new IllegalArgumentException("sessionIdle must be a positive duration, got " + sessionIdle);
        }
    }

    /** No plan checks, {@link BatchLimits#DEFAULTS}. */
    public static LlmNodeSettings of(String nodeId) {
        return new LlmNodeSettings(nodeId, BatchLimits.DEFAULTS, 0, DEFAULT_SESSION_IDLE);
    }

    public int maxSessions() {
        return limits.maxSessions();
    }

    public LlmNodeSettings withMaxSessions(int max) {
        return withLimits(limits.withMaxSessions(max));
    }

    public LlmNodeSettings withLimits(BatchLimits next) {
        return new LlmNodeSettings(nodeId, next, layersEpoch, sessionIdle);
    }

    public LlmNodeSettings withLayersEpoch(long epoch) {
        return new LlmNodeSettings(nodeId, limits, epoch, sessionIdle);
    }

    public LlmNodeSettings withSessionIdle(Duration idle) {
        return new LlmNodeSettings(nodeId, limits, layersEpoch, idle);
    }
}
