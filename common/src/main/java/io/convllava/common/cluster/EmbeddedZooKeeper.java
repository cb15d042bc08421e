package io.convllava.common.cluster;

import io.convllava.common.transport.BindFailure;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A standalone ZooKeeper server in this JVM, for {@code convllava zookeeper} and {@code convllava local}, built
 * from ZooKeeper's own {@link ZooKeeperServer} and {@link ServerCnxnFactory} (so no admin server). Data lives in a
 * temporary folder deleted on close. Empty container znodes are not reaped. Not for production ensembles. It listens
 * on the loopback address unless given another.
 */
public final class EmbeddedZooKeeper implements Closeable {
    /** Where it listens unless told otherwise: nothing authenticates its clients, so not on the network. */
    public static final String LOOPBACK = "127.0.0.1";

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
    private static final int TICK_TIME_MS = 2000; // sessions of 4..40 s, so Zk's 15 s is accepted
    private static final int MAX_CLIENT_CONNECTIONS = 1000;

    private final Path dataDir;
    private final ZooKeeperServer server;
    private final ServerCnxnFactory connections;
    private final String connectString;

    private EmbeddedZooKeeper(Path dataDir, ZooKeeperServer server, ServerCnxnFactory connections,
                              String connectString) {
        this.dataDir = dataDir;
        this.server = server;
        this.connections = connections;
        this.connectString = connectString;
    }

    /** Listens on the loopback address only; {@code port} 0 picks a free one. */
    public static EmbeddedZooKeeper start(int port) throws IOException {
        return start(LOOPBACK, port);
    }

    /**
     * Listens on {@code bindAddress} (a host name or IP: {@value #LOOPBACK} keeps it on this machine, 0.0.0.0
     * opens it to other machines); port 0 picks a free one.
     */
    public static EmbeddedZooKeeper start(String bindAddress, int port) throws IOException {
        return start(new InetSocketAddress(bindAddress, port));
    }

    /** Listens on {@code address}; port 0 picks a free one. */
    public static EmbeddedZooKeeper start(InetSocketAddress address) throws IOException {
        String host = address.getHostString();
        ServerCnxnFactory connections;
        try {
            connections = ServerCnxnFactory.createFactory(address, MAX_CLIENT_CONNECTIONS);
        } catch (IOException | RuntimeException e) {
            throw BindFailure.explain("ZooKeeper", host, address.getPort(), e);
        }
        Path dataDir = null;
        ZooKeeperServer server = null;
        try {
            dataDir = Files.createTempDirectory("convllava-zookeeper-");
            server = new ZooKeeperServer(new FileTxnSnapLog(dataDir.toFile(), dataDir.toFile()), TICK_TIME_MS, "");
            connections.startup(server);
            InetAddress bound = address.getAddress();
            String clientHost = bound == null || bound.isAnyLocalAddress() ? LOOPBACK : bound.getHostAddress();
            String connectString = clientHost + ":" + connections.getLocalPort();
            LOG.debug("ZooKeeper listening on {}, clients on this machine connect to {} (data in {})",
                    connections.getLocalAddress(), connectString, dataDir);
            return new EmbeddedZooKeeper(dataDir, server, connections, connectString);
        } catch (IOException | InterruptedException | RuntimeException e) {
            shutdown(connections, server);
            if (dataDir != null) {
                deleteRecursively(dataDir);
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("cannot start ZooKeeper on " + host + ":" + address.getPort() + ": "
                    + e.getMessage(), e);
        }
    }

    /** {@code host:port} for clients on this machine. */
    public String connectString() {
        return connectString;
    }

    public int port() {
        return connections.getLocalPort();
    }

    /** The address it listens on: loopback unless started with another. */
    public InetSocketAddress listenAddress() {
        return connections.getLocalAddress();
    }

    /** The temporary data folder (snapshots and transaction log), deleted on close. */
    public Path dataDir() {
        return dataDir;
    }

    @Override
    public void close() {
        shutdown(connections, server);
        deleteRecursively(dataDir);
    }

    private static void shutdown(ServerCnxnFactory connections, ZooKeeperServer server) {
        if (connections != null) {
            connections.shutdown();
        }
        if (server != null && server.isRunning()) {
            server.shutdown();
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete ZooKeeper data folder " + dir, e);
        }
    }
}
