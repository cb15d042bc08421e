package io.convllava.cli;

import io.convllava.common.cluster.Zk;
import io.convllava.common.cluster.ZkLayout;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Option;

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

    CuratorFramework connect() {
        return Zk.newClient(zk);
    }

    ZkLayout layout() {
        return new ZkLayout(cluster);
    }
}
