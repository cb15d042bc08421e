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
final class TestZooKeeper implements BeforeAllCallback, AfterAllCallback {
    /** How long a test waits for ZooKeeper (and what watches it) to show a change. */
    static final Duration WAIT = Duration.ofSeconds(10);

    private TestingServer server;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = new TestingServer();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        server.close();
    }

    String connectString() {
        return server.getConnectString();
    }

    /** A started client of this server; the caller closes it. */
    CuratorFramework newClient() {
        return Zk.newClient(connectString());
    }
}
