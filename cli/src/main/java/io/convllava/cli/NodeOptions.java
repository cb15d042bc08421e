package io.convllava.cli;

import io.convllava.common.cluster.Zk;
import io.convllava.common.cluster.ZkAuth;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.metrics.MetricsEndpoint;
import io.convllava.common.transport.TlsConfig;
import io.convllava.common.transport.TransportOptions;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
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

    @Option(names = "--metrics-port", defaultValue = "0", paramLabel = "PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics (--host's address); 0 = off"
                    + " (default: ${DEFAULT-VALUE}).")
    int metricsPort;

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

    /** The transport of this role: TLS with the given files, or plaintext (said on {@code err}: development only). */
    TransportOptions transport(PrintStream err) {
        if (tlsCert == null && tlsKey == null && tlsCa == null) {
            err.println("warning: gRPC ports and channels are plaintext and unauthenticated (development only):"
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

    @Option(names = "--zk-auth-file", paramLabel = "FILE",
            description = "File holding the cluster's ZooKeeper credential, one line user:password: the node"
                    + " authenticates with it and creates its znodes readable and writable by that user only."
                    + " Without it ZooKeeper is open to anyone who reaches it (see docs/security.md).")
    Path zkAuthFile;

    /**
     * Connects to ZooKeeper, retrying for {@code --zk-wait}; each failed attempt is reported on {@code err}, and so
     * is the lack of a credential. Then checks that this node may use the cluster there ({@link Zk#checkAccess}).
     */
    CuratorFramework connect(PrintStream err) throws Exception {
        ZkAuth auth = zkAuth(zkAuthFile);
        if (auth == null) {
            warnOpen(zk, cluster, err);
        }
        CuratorFramework client = Zk.connect(zk, zkWait, auth, line -> {
            err.println(line);
            err.flush();
        });
        try {
            Zk.checkAccess(client, zk, layout(), auth);
        } catch (Exception | Error e) {
            client.close();
            throw e;
        }
        return client;
    }

    /** The credential in {@code file}, or null without one; a bad file is a usage mistake naming the file. */
    static ZkAuth zkAuth(Path file) {
        if (file == null) {
            return null;
        }
        try {
            return ZkAuth.load(file);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--zk-auth-file: " + e.getMessage());
        }
    }

    static void warnOpen(String zk, String cluster, PrintStream err) {
        err.println("warning: no --zk-auth-file: anyone who can reach ZooKeeper at " + zk + " can join cluster '"
                + cluster + "' or rewrite its plan (see docs/security.md)");
        err.flush();
    }

    /** The Prometheus endpoint of {@code --metrics-port}, said on {@code err}; null when off. */
    MetricsEndpoint startMetrics(PrintStream err) throws IOException {
        if (metricsPort < 0 || metricsPort > 65535) {
            throw new UsageException("--metrics-port must be 0 (off) or a port up to 65535, got " + metricsPort);
        }
        if (metricsPort == 0) {
            return null;
        }
        MetricsEndpoint endpoint = MetricsEndpoint.start(host, metricsPort);
        err.println("metrics at " + endpoint.url());
        err.flush();
        return endpoint;
    }

    ZkLayout layout() {
        return new ZkLayout(cluster);
    }
}
