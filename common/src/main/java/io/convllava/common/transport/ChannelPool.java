package io.convllava.common.transport;

import io.grpc.ManagedChannel;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** One long-lived channel per {@code host:port}, created on first use and shut down by {@link #close()}. */
public final class ChannelPool implements AutoCloseable {
    private final TransportOptions options;
    private final boolean directCallbacks;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    /** Helpers bound to one address's channel, by address and then kind ({@link #attached}). */
    private final Map<String, Map<Class<?>, Object>> attachments = new ConcurrentHashMap<>();
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
     * The helper of kind {@code type} bound to the channel of {@code hostPort} (one per address and kind, made by
     * {@code make} on first use), forgotten when that address leaves ({@link #retainOnly}).
     */
    public <T> T attached(String hostPort, Class<T> type, Function<ManagedChannel, T> make) {
        ManagedChannel channel = get(hostPort);
        Object helper = attachments.computeIfAbsent(hostPort, address -> new ConcurrentHashMap<>())
                .computeIfAbsent(type, kind -> make.apply(channel));
        return type.cast(helper);
    }

    /**
     * Shuts down the channels to every address not in {@code live} (nodes that left the cluster); calls still running
     * on them may finish.
     */
    public void retainOnly(Set<String> live) {
        attachments.keySet().retainAll(live);
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
