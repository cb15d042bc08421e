package io.convllava.common.transport;

import java.time.Duration;

/**
 * gRPC settings shared by every server and channel of the cluster.
 *
 * @param maxMessageBytes  largest inbound message ({@link MessageLimits#MAX_MESSAGE_BYTES} by default); gRPC's 4 MiB
 *                         default is too small for images, image embeddings and prefill hidden states
 * @param keepAliveTime    idle time before a transport pings its peer
 * @param keepAliveTimeout how long a ping may go unanswered before the connection is considered dead
 * @param callDeadline     deadline put on a client call made for no request, or for one without a deadline; a call
 *                         made while serving a request with a deadline keeps that one
 * @param serverThreads    size of each server's fixed handler pool
 * @param tls              TLS for servers and channels; null = plaintext (development only)
 */
public record TransportOptions(int maxMessageBytes, Duration keepAliveTime, Duration keepAliveTimeout,
                               Duration callDeadline, int serverThreads, TlsConfig tls) {

    public static final TransportOptions DEFAULTS = new TransportOptions(MessageLimits.MAX_MESSAGE_BYTES,
            Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(120),
            Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), null);

    public TransportOptions {
        if (maxMessageBytes <= 0) {
            throw new IllegalArgumentException("maxMessageBytes must be > 0, got " + maxMessageBytes);
        }
        requirePositive("keepAliveTime", keepAliveTime);
        requirePositive("keepAliveTimeout", keepAliveTimeout);
        requirePositive("callDeadline", callDeadline);
        if (serverThreads <= 0) {
            throw new IllegalArgumentException("serverThreads must be > 0, got " + serverThreads);
        }
    }

    public TransportOptions withMaxMessageBytes(int bytes) {
        return new TransportOptions(bytes, keepAliveTime, keepAliveTimeout, callDeadline, serverThreads, tls);
    }

    public TransportOptions withCallDeadline(Duration deadline) {
        return new TransportOptions(maxMessageBytes, keepAliveTime, keepAliveTimeout, deadline, serverThreads, tls);
    }

    public TransportOptions withServerThreads(int threads) {
        return new TransportOptions(maxMessageBytes, keepAliveTime, keepAliveTimeout, callDeadline, threads, tls);
    }

    public TransportOptions withTls(TlsConfig config) {
        return new TransportOptions(maxMessageBytes, keepAliveTime, keepAliveTimeout, callDeadline, serverThreads,
                config);
    }

    private static void requirePositive(String name, Duration d) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(name + " must be a positive duration, got " + d);
        }
    }
}
