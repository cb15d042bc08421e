package io.convllava.coordinator.http;

import io.convllava.common.transport.MessageLimits;

import java.time.Duration;

/**
 * Bounds of the HTTP server.
 *
 * @param maxBodyBytes   largest request body; a larger one is refused with 413 before it is kept
 * @param maxConnections connections open at once; more are closed as they arrive
 * @param workers        threads that run the handlers (parse bodies, fetch images, start calls)
 * @param workQueue      requests waiting for a worker; more are refused with 503
 * @param idleTimeout    how long a connection may stay silent while it sends a request (then 408) or between
 *                       requests (then it is closed); a response in progress is not affected
 * @param shutdownGrace  how long stopping waits for the answers in progress before it closes their connections
 */
public record HttpServerOptions(int maxBodyBytes, int maxConnections, int workers, int workQueue,
                                Duration idleTimeout, Duration shutdownGrace) {
    /**
     * A body may carry what one gRPC request may: {@link MessageLimits#MAX_MESSAGE_BYTES} of images, as base64 (4
     * characters per 3 bytes), and 1 MiB of JSON around them.
     */
    public static final int MAX_BODY_BYTES = MessageLimits.MAX_MESSAGE_BYTES / 3 * 4 + (1 << 20);

    public static final HttpServerOptions DEFAULTS = new HttpServerOptions(MAX_BODY_BYTES, 256, 16, 256,
            Duration.ofSeconds(60), Duration.ofSeconds(30));

    public HttpServerOptions {
        if (maxBodyBytes < 1 || maxConnections < 1 || workers < 1 || workQueue < 0) {
            throw new IllegalArgumentException("HTTP server bounds must be positive: body " + maxBodyBytes
                    + " bytes, " + maxConnections + " connections, " + workers + " workers, queue " + workQueue);
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero() || shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("the idle timeout must be positive and the grace not negative, got "
                    + idleTimeout + " and " + shutdownGrace);
        }
    }

    public HttpServerOptions withMaxBodyBytes(int bytes) {
        return new HttpServerOptions(bytes, maxConnections, workers, workQueue, idleTimeout, shutdownGrace);
    }

    public HttpServerOptions withIdleTimeout(Duration timeout) {
        return new HttpServerOptions(maxBodyBytes, maxConnections, workers, workQueue, timeout, shutdownGrace);
    }
}
