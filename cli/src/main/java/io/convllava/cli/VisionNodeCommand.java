package io.convllava.cli;

import io.convllava.vision.node.VisionNode;

import io.convllava.common.model.ModelFiles;
import org.apache.curator.framework.CuratorFramework;

import java.io.PrintStream;

/** {@code convllava vision-node}: encodes images for a cluster until SIGINT or SIGTERM. */
final class VisionNodeCommand {
    private VisionNodeCommand() {
    }

    static int run(Options o, PrintStream out) throws Exception {
        ModelFiles files = NodeFlags.modelFiles(o);
        CuratorFramework zk = NodeFlags.zk(o);
        try (VisionNode node = VisionNode.start(files, NodeFlags.modelId(o), o.get("device", "cpu"),
                NodeFlags.host(o), o.getInt("port", VisionNode.DEFAULT_PORT), o.get("node-id"), zk,
                NodeFlags.layout(o), System.err)) {
            Runtime.getRuntime().addShutdownHook(new Thread(node::close, "vision-node-shutdown"));
            out.println("vision-node ready at " + node.address() + " (" + node.nodeId() + ")");
            out.flush();
            node.blockUntilShutdown();
        } finally {
            zk.close();
        }
        return 0;
    }
}
