package io.convllava.common.client;

import java.util.Optional;
import java.util.UUID;

/**
 * Session ids that name the process driving the session: {@code <owner>/<uuid>}, the owner being a coordinator's
 * incarnation. An llm node frees the sessions of an owner that left the cluster (say, a coordinator killed between
 * two steps, which no call in flight tells the node about) instead of holding their KV caches until they idle out.
 */
public final class SessionOwner {
    private static final char SEPARATOR = '/';

    private SessionOwner() {
    }

    /** A fresh session id owned by {@code owner}. */
    public static String sessionId(String owner) {
        if (owner.isEmpty() || owner.indexOf(SEPARATOR) >= 0) {
            throw new IllegalArgumentException("a session owner must be non-empty and without '/': " + owner);
        }
        return owner + SEPARATOR + UUID.randomUUID();
    }

    /** The owner a session id names; empty for ids made otherwise. */
    public static Optional<String> of(String sessionId) {
        int end = sessionId.indexOf(SEPARATOR);
        return end > 0 ? Optional.of(sessionId.substring(0, end)) : Optional.empty();
    }
}
