package io.convllava.coordinator.routing;

import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.grpc.ManagedChannel;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One long-lived channel per node address, created on first use; {@link #retainOnly} shuts down the channels of
 * nodes that left (calls still running on them may finish).
 */
final class NodeChannels implements AutoCloseable {
    private final TransportOptions options;
    private final Map<String, ManagedChannel> byAddress = new ConcurrentHashMap<>();

    NodeChannels(TransportOptions options) {
        this.options = options;
    }

    ManagedChannel get(String address) {
        return byAddress.computeIfAbsent(address, a -> Channels.forAddress(a, options));
    }

    /** Shuts down every channel whose address is not in {@code live}. */
    void retainOnly(Set<String> live) {
        byAddress.entrySet().removeIf(e -> {
            if (live.contains(e.getKey())) {
                return false;
            }
            e.getValue().shutdown();
            return true;
        });
    }

    int size() {
        return byAddress.size();
    }

    @Override
    public void close() {
        byAddress.values().forEach(ManagedChannel::shutdownNow);
        byAddress.clear();
    }
}
