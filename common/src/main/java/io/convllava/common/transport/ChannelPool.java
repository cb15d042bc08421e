package io.convllava.common.transport;

import io.grpc.ManagedChannel;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** One long-lived channel per {@code host:port}, created on first use and shut down by {@link #close()}. */
public final class ChannelPool implements AutoCloseable {
    private final TransportOptions options;
    private final boolean directCallbacks;
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * An address's channel with the helpers bound to it ({@link #attached}), by kind: they are made, kept and dropped
     * together, so a helper never outlives its channel in the pool (a helper bound to a channel that
     * {@link #retainOnly} had shut down would fail every call it made).
     */
    private record Connection(ManagedChannel channel, Map<Class<?>, Object> helpers) {
    }

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
        return connection(hostPort).channel();
    }

    /**
     * The helper of kind {@code type} bound to the channel of {@code hostPort} (one per address and kind, made by
     * {@code make} on first use), forgotten when that address leaves ({@link #retainOnly}).
     */
    public <T> T attached(String hostPort, Class<T> type, Function<ManagedChannel, T> make) {
        Connection connection = connection(hostPort);
        return type.cast(connection.helpers().computeIfAbsent(type, kind -> make.apply(connection.channel())));
    }

    /** The helper of kind {@code type} bound to the channel of {@code hostPort} if one was made, else null. */
    public <T> T attachedIfMade(String hostPort, Class<T> type) {
        Connection connection = connections.get(hostPort);
        return connection == null ? null : type.cast(connection.helpers().get(type));
    }

    private Connection connection(String hostPort) {
        if (closed) {
            throw new IllegalStateException("channel pool is closed (asked for " + hostPort + ")");
        }
        return connections.computeIfAbsent(hostPort, address -> new Connection(Channels.forAddress(address, options,
                directCallbacks), new ConcurrentHashMap<>()));
    }

    /**
     * Shuts down the channels to every address not in {@code live} (nodes that left the cluster); calls still running
     * on them may finish.
     */
    public void retainOnly(Set<String> live) {
        connections.entrySet().removeIf(e -> {
            if (live.contains(e.getKey())) {
                return false;
            }
            e.getValue().channel().shutdown();
            return true;
        });
    }

    /** Channels currently open. */
    public int size() {
        return connections.size();
    }

    public TransportOptions options() {
        return options;
    }

    @Override
    public void close() {
        closed = true;
        List<ManagedChannel> channels = connections.values().stream().map(Connection::channel).toList();
        channels.forEach(ManagedChannel::shutdown);
        for (ManagedChannel channel : channels) {
            try {
                if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                    channel.shutdownNow();
                }
            } catch (InterruptedException e) {
                channel.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        connections.clear();
    }
}
