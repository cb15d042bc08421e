package io.convllava.common.cluster;

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
 * temporary folder deleted on close. Empty container znodes are not reaped. Not for production ensembles.
 */
public final class EmbeddedZooKeeper implements Closeable {
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

    /** Listens on all interfaces; {@code port} 0 picks a free one. */
    public static EmbeddedZooKeeper start(int port) throws IOException {
        return start(new InetSocketAddress(port));
    }

    /** Listens on {@code address}; port 0 picks a free one. */
    public static EmbeddedZooKeeper start(InetSocketAddress address) throws IOException {
        Path dataDir = Files.createTempDirectory("convllava-zookeeper-");
        ZooKeeperServer server = null;
        ServerCnxnFactory connections = null;
        try {
            server = new ZooKeeperServer(new FileTxnSnapLog(dataDir.toFile(), dataDir.toFile()), TICK_TIME_MS, "");
            connections = ServerCnxnFactory.createFactory(address, MAX_CLIENT_CONNECTIONS);
            connections.startup(server);
            InetAddress bound = address.getAddress();
            String host = bound == null || bound.isAnyLocalAddress() ? "127.0.0.1" : bound.getHostAddress();
            String connectString = host + ":" + connections.getLocalPort();
            LOG.info("ZooKeeper listening on {} (data in {})", connections.getLocalAddress(), dataDir);
            return new EmbeddedZooKeeper(dataDir, server, connections, connectString);
        } catch (IOException | InterruptedException | RuntimeException e) {
            shutdown(connections, server);
            deleteRecursively(dataDir);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("cannot start ZooKeeper on " + address + ": " + e.getMessage(), e);
        }
    }

    /** {@code host:port} for clients on this machine. */
    public String connectString() {
        return connectString;
    }

    public int port() {
        return connections.getLocalPort();
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
