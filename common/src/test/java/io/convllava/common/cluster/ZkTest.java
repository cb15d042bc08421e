package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZkTest {
    @AfterEach
    void clearProperty() {
        System.clearProperty(Zk.SESSION_TIMEOUT_PROPERTY);
    }

    @Test
    void theSessionTimeoutComesFromASystemProperty() {
        assertEquals(Duration.ofSeconds(15), Zk.sessionTimeout());
        System.setProperty(Zk.SESSION_TIMEOUT_PROPERTY, "4000");
        assertEquals(Duration.ofSeconds(4), Zk.sessionTimeout());
        for (String bad : List.of("4s", "-1", "999", "600001", "")) {
            System.setProperty(Zk.SESSION_TIMEOUT_PROPERTY, bad);
            if (bad.isEmpty()) {
                assertEquals(Duration.ofSeconds(15), Zk.sessionTimeout(), "blank: the default");
                continue;
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Zk::sessionTimeout);
            assertEquals("system property convllava.zk.sessionTimeoutMs must be a whole number of milliseconds from"
                    + " 1000 to 600000, got '" + bad + "' (leave it out for the default 15000)", e.getMessage());
        }
    }

    @Test
    void clientsAskForTheConfiguredSessionTimeout() throws Exception {
        System.setProperty(Zk.SESSION_TIMEOUT_PROPERTY, "4000");
        try (TestingServer server = new TestingServer();
             CuratorFramework client = Zk.newClient(server.getConnectString())) {
            assertEquals(4000, client.getZookeeperClient().getZooKeeper().getSessionTimeout());
        }
    }

    @Test
    void connectRetriesAndThenSaysWhatToDo() throws Exception {
        String where = "127.0.0.1:" + freePort();
        List<String> progress = new CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        ZkUnavailableException e = assertThrows(ZkUnavailableException.class,
                () -> Zk.connect(where, Duration.ofMillis(3500), progress::add));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms >= 3500 && ms < 10_000, "gives up after the wait: " + ms + " ms");
        assertFalse(progress.isEmpty());
        assertTrue(progress.get(0).matches("ZooKeeper at " + where + " not reachable \\(attempt 1, [0-9.]+m?s of"
                + " 3\\.5s\\); retrying in 1s"), progress.get(0));
        assertTrue(e.getMessage().matches("cannot reach ZooKeeper at " + where + ": gave up after "
                + (progress.size() + 1) + " attempts in [0-9.]+s; start ZooKeeper there \\(./convllava zookeeper\\),"
                + " check --zk, or wait longer with --zk-wait"), e.getMessage());
    }

    @Test
    void connectWaitsForAZooKeeperThatStartsLater() throws Exception {
        int port = freePort();
        List<String> progress = new CopyOnWriteArrayList<>();
        String where;
        try (TestingServer server = new TestingServer(port, false)) {
            where = server.getConnectString();
            Thread starter = new Thread(() -> {
                try {
                    Thread.sleep(2500);
                    server.start();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            starter.start();
            try (CuratorFramework client = Zk.connect(server.getConnectString(), Duration.ofSeconds(30),
                    progress::add)) {
                assertTrue(client.getZookeeperClient().isConnected());
            }
            starter.join();
        }
        assertTrue(progress.size() >= 2, progress.toString());
        assertTrue(progress.get(progress.size() - 1).startsWith("ZooKeeper at " + where + " reached at attempt " + progress.size() + " after "), progress.toString());
    }

    private static int freePort() throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }
}
