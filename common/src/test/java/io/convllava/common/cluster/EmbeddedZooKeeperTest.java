package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedZooKeeperTest {
    @Test
    void curatorClientsCanUseIt() throws Exception {
        Path dataDir;
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(0)) {
            assertTrue(zk.port() > 0);
            assertEquals("127.0.0.1:" + zk.port(), zk.connectString());
            try (CuratorFramework client = Zk.newClient(zk.connectString())) {
                byte[] data = "hello".getBytes(StandardCharsets.UTF_8);
                client.create().creatingParentsIfNeeded().forPath("/convllava/test/node", data);
                assertArrayEquals(data, client.getData().forPath("/convllava/test/node"));
                assertEquals(Zk.DEFAULT_SESSION_TIMEOUT.toMillis(),
                        client.getZookeeperClient().getZooKeeper().getSessionTimeout(),
                        "the server accepts the 15 s session timeout");
            }
            dataDir = zk.dataDir();
            assertTrue(Files.isDirectory(dataDir.resolve("version-2")), "ZooKeeper writes its data there");
        }
        assertFalse(Files.exists(dataDir), "the data folder is deleted on close");
    }

    @Test
    void itListensOnLoopbackUnlessToldOtherwise() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(0)) {
            assertTrue(zk.listenAddress().getAddress().isLoopbackAddress(), zk.listenAddress().toString());
        }
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start("0.0.0.0", 0)) {
            assertTrue(zk.listenAddress().getAddress().isAnyLocalAddress(), zk.listenAddress().toString());
            assertEquals("127.0.0.1:" + zk.port(), zk.connectString(), "clients on this machine use loopback");
        }
    }

    @Test
    void aTakenPortIsReportedAsInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Exception e = assertThrows(Exception.class, () -> EmbeddedZooKeeper.start(port));
            assertEquals("ZooKeeper: port " + port + " on 127.0.0.1 is already in use (another process listens"
                    + " there): stop it or pick another --port", e.getMessage());
        }
    }

    @Test
    void anUnreachableZooKeeperSaysHowToStartOne() throws Exception {
        int freePort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            freePort = probe.getLocalPort();
        }
        String where = "127.0.0.1:" + freePort;
        ZkUnavailableException e = assertThrows(ZkUnavailableException.class,
                () -> Zk.newClient(where, Duration.ofMillis(500)));
        assertEquals("cannot reach ZooKeeper at " + where + " within 500ms: start one with ./convllava zookeeper",
                e.getMessage());
    }
}
