package io.convllava.common.node;

import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRegistration;
import io.convllava.common.cluster.ZkLayout;
import org.apache.curator.framework.CuratorFramework;

import java.io.IOException;
import java.time.Duration;
import java.util.Locale;

/** Joining a cluster as a node. */
public final class Membership {
    static final Duration ZK_WAIT = Duration.ofSeconds(30);

    private Membership() {
    }

    /** Publishes {@code info} and waits until ZooKeeper has it. */
    public static NodeRegistration register(CuratorFramework zk, ZkLayout layout, NodeInfo info)
            throws IOException, InterruptedException {
        NodeRegistration registration = new NodeRegistration(zk, layout, info);
        registration.start();
        if (!registration.waitForInitialCreate(ZK_WAIT)) {
            registration.close();
            throw new IOException("could not register " + info.role().name().toLowerCase(Locale.ROOT) + " node "
                    + info.nodeId() + " in ZooKeeper within " + ZK_WAIT.toSeconds() + " s");
        }
        return registration;
    }
}
