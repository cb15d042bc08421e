package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
