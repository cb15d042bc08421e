package io.convllava.common.pipeline;

/**
 * A prefill asked to continue from a kept cache that a stage no longer holds (evicted by its KV budget, or taken by
 * another session): nothing was run and the session holds nothing; run the whole prompt instead.
 */
public final class PrefixUnavailableException extends RuntimeException {
    public PrefixUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
