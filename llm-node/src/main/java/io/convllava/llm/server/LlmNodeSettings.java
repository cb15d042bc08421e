package io.convllava.llm.server;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * How an llm node admits work.
 *
 * @param nodeId      this node's id, used in error messages
 * @param maxSessions sessions (KV caches) held at once; a new session beyond that gets RESOURCE_EXHAUSTED
 * @param planEpoch   the placement plan this node serves; requests routed by another (non-zero) epoch get
 *                    FAILED_PRECONDITION. Returns 0 when the node is not under a plan (nothing is checked).
 * @param sessionIdle a session no step has touched for this long is released: its coordinator died or lost it
 *                    without a Release, and its KV cache would otherwise stay forever
 */
public record LlmNodeSettings(String nodeId, int maxSessions, LongSupplier planEpoch, Duration sessionIdle) {

    public static final int DEFAULT_MAX_SESSIONS = 64;
    public static final Duration DEFAULT_SESSION_IDLE = Duration.ofMinutes(10);

    public LlmNodeSettings(String nodeId, int maxSessions, LongSupplier planEpoch) {
        this(nodeId, maxSessions, planEpoch, DEFAULT_SESSION_IDLE);
    }

    public LlmNodeSettings {
        if (nodeId == null || nodeId.isBlank()) {
            throw new IllegalArgumentException("nodeId must not be empty");
        }
        if (maxSessions <= 0) {
            throw new IllegalArgumentException("maxSessions must be > 0, got " + maxSessions);
        }
        if (planEpoch == null) {
            throw new IllegalArgumentException("planEpoch supplier must not be null");
        }
        if (sessionIdle == null || sessionIdle.isNegative() || sessionIdle.isZero()) {
            throw new IllegalArgumentException("sessionIdle must be a positive duration, got " + sessionIdle);
        }
    }

    /** No plan checks, {@link #DEFAULT_MAX_SESSIONS}. */
    public static LlmNodeSettings of(String nodeId) {
        return new LlmNodeSettings(nodeId, DEFAULT_MAX_SESSIONS, () -> 0L);
    }

    public LlmNodeSettings withMaxSessions(int max) {
        return new LlmNodeSettings(nodeId, max, planEpoch, sessionIdle);
    }

    public LlmNodeSettings withPlanEpoch(LongSupplier epoch) {
        return new LlmNodeSettings(nodeId, maxSessions, epoch, sessionIdle);
    }

    public LlmNodeSettings withSessionIdle(Duration idle) {
        return new LlmNodeSettings(nodeId, maxSessions, planEpoch, idle);
    }
}
