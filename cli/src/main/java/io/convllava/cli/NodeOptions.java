package io.convllava.cli;

import io.convllava.common.cluster.Zk;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.transport.TlsConfig;
import io.convllava.common.transport.TransportOptions;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/** What every cluster role shares: ZooKeeper, cluster name, the address to bind and advertise, its names. */
final class NodeOptions {
    @Option(names = "--zk", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "ZooKeeper connect string.")
    String zk;

    @Option(names = "--cluster", defaultValue = "default", paramLabel = "NAME",
            description = "Cluster name, so several clusters can share one ZooKeeper (default: ${DEFAULT-VALUE}).")
    String cluster;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "HOST",
            description = "Address to bind and to advertise to the other nodes (default: ${DEFAULT-VALUE}, which only"
                    + " works on one machine).")
    String host;

    @Option(names = "--node-id", paramLabel = "ID", description = "This node's id (default: role-host:port).")
    String nodeId;

    @Option(names = "--model-id", paramLabel = "ID",
            description = "The model's name in the cluster (default: the model folder's name or the hub id).")
    String modelId;

    @Option(names = "--zk-wait", defaultValue = "60s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How long to keep trying to reach ZooKeeper at start-up, with growing pauses between the"
                    + " attempts, e.g. 60s, 5m (default: ${DEFAULT-VALUE}).")
    Duration zkWait;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "This node's certificate chain, signed by the"
            + " cluster's authority (--tls-ca); with --tls-key, every port and channel uses TLS, internal ports"
            + " mutual TLS. ./convllava certs makes a development set.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "This node's private key (PKCS#8 PEM).")
    Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "PEM", description = "The cluster's certificate authority: peers must"
            + " present certificates it signed.")
    Path tlsCa;

    /** The transport of this role: TLS with the given files, or plaintext (said on stderr: development only). */
    TransportOptions transport() {
        if (tlsCert == null && tlsKey == null && tlsCa == null) {
            System.err.println("warning: gRPC ports and channels are plaintext and unauthenticated (development only):"
                    + " give --tls-cert, --tls-key and --tls-ca");
            return TransportOptions.DEFAULTS;
        }
        if (tlsCert == null || tlsKey == null || tlsCa == null) {
            throw new UsageException("TLS needs all of --tls-cert, --tls-key and --tls-ca");
        }
        try {
            return TransportOptions.DEFAULTS.withTls(TlsConfig.member(tlsCert, tlsKey, tlsCa));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Connects to ZooKeeper, retrying for {@code --zk-wait}; each failed attempt is reported on stderr. */
    CuratorFramework connect() throws InterruptedException {
        return Zk.connect(zk, zkWait, line -> {
            System.err.println(line);
            System.err.flush();
        });
    }

    ZkLayout layout() {
        return new ZkLayout(cluster);
    }
}
