package io.convllava.common.transport;

import io.grpc.ManagedChannel;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** One long-lived channel per {@code host:port}, created on first use and shut down by {@link #close()}. */
public final class ChannelPool implements AutoCloseable {
    private final TransportOptions options;
    private final boolean directCallbacks;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public ChannelPool(TransportOptions options) {
        this(options, false);
    }

    /**
     * @param directCallbacks whether the channels run their calls' callbacks on the transport thread that received
     *                        the answer, instead of handing them to a shared pool: one thread wake-up less per call,
     *                        for callers whose callbacks never block
     */
    public ChannelPool(TransportOptions options, boolean directCallbacks) {
        this.options = options;
        this.directCallbacks = directCallbacks;
    }

    public ManagedChannel get(String hostPort) {
        if (closed) {
            throw new IllegalStateException("channel pool is closed (asked for " + hostPort + ")");
        }
        return channels.computeIfAbsent(hostPort, address -> Channels.forAddress(address, options,
                directCallbacks));
    }

    /**
     * Shuts down the channels to every address not in {@code live} (nodes that left the cluster); calls still running
     * on them may finish.
     */
    public void retainOnly(Set<String> live) {
        channels.entrySet().removeIf(e -> {
            if (live.contains(e.getKey())) {
                return false;
            }
            e.getValue().shutdown();
            return true;
        });
    }

    /** Channels currently open. */
    public int size() {
        return channels.size();
    }

    public TransportOptions options() {
        return options;
    }

    @Override
    public void close() {
        closed = true;
        channels.values().forEach(ManagedChannel::shutdown);
        for (ManagedChannel channel : channels.values()) {
            try {
                if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                    channel.shutdownNow();
                }
            } catch (InterruptedException e) {
                channel.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        channels.clear();
    }
}
