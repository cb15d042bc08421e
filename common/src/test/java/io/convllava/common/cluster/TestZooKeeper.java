package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.time.Duration;

/**
 * Test fixture: one in-process ZooKeeper server for a test class, registered as
 * {@code @RegisterExtension static final TestZooKeeper zooKeeper = new TestZooKeeper();}.
 */
public final class TestZooKeeper implements BeforeAllCallback, AfterAllCallback {
    /** How long a test waits for ZooKeeper (and what watches it) to show a change. */
    public static final Duration WAIT = Duration.ofSeconds(10);

    private TestingServer server;
    private CuratorFramework client;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = new TestingServer();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (client != null) {
            client.close();
        }
        server.close();
    }

    public String connectString() {
        return server.getConnectString();
    }

    /** A started client of this server; the caller closes it. */
    public CuratorFramework newClient() {
        return Zk.newClient(connectString());
    }

    /** One client for the whole test class, closed with the server. */
    public CuratorFramework client() {
        if (client == null) {
            client = newClient();
        }
        return client;
    }
}
