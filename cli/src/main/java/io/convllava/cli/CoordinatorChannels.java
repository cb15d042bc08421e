package io.convllava.cli;

import io.convllava.common.transport.BearerTokens;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TlsConfig;
import io.convllava.common.transport.TransportOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Channels to the coordinators named by {@code --target host:port[,host:port...]}, with {@code --tls-ca} (TLS) and
 * {@code --token-file} (a bearer token on every call) applied; closing shuts them down.
 */
final class CoordinatorChannels implements AutoCloseable {
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<Channel> calls = new ArrayList<>();

    /**
     * @param tlsCa     null for plaintext
     * @param tokenFile null for no token
     * @throws UsageException when the authority or the token file is not what it should be
     * @throws IOException    when the token file cannot be read
     */
    CoordinatorChannels(String targets, Path tlsCa, Path tokenFile) throws IOException {
        TransportOptions transport = TransportOptions.DEFAULTS;
        ClientInterceptor token = null;
        try {
            if (tlsCa != null) {
                transport = transport.withTls(TlsConfig.clientTrusting(tlsCa));
            }
            if (tokenFile != null) {
                token = BearerTokens.sending(BearerTokens.firstOf(tokenFile));
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        for (String target : targets.split(",")) {
            ManagedChannel channel = Channels.forAddress(target.trim(), transport);
            channels.add(channel);
            calls.add(token == null ? channel : ClientInterceptors.intercept(channel, token));
        }
    }

    /** One per coordinator, in the order given, carrying the token. */
    List<Channel> calls() {
        return List.copyOf(calls);
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
    }
}
