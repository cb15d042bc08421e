package io.convllava.cli;

import io.convllava.llm.node.LlmNode;

import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.model.ModelFiles;
import org.apache.curator.framework.CuratorFramework;

import java.io.PrintStream;
import java.time.Duration;

/** {@code convllava llm-node}: serves a range of decoder layers for a cluster until SIGINT or SIGTERM. */
final class LlmNodeCommand {
    private LlmNodeCommand() {
    }

    static int run(Options o, PrintStream out) throws Exception {
        String layers = o.require("layers");
        ModelFiles files = NodeFlags.modelFiles(o);
        if (!NodeInfo.AUTO.equals(layers)) {
            LlmNode.parseRange(layers, files.llmConfig().numHiddenLayers()); // a typo fails before connecting
        }
        CuratorFramework zk = NodeFlags.zk(o);
        try (LlmNode node = LlmNode.start(files, NodeFlags.modelId(o), layers,
                o.get("device", "cpu"), NodeFlags.host(o), o.getInt("port", LlmNode.DEFAULT_PORT), o.get("node-id"),
                zk, NodeFlags.layout(o), Duration.ofSeconds(o.getLong("assignment-wait-s", 600)), System.err)) {
            Runtime.getRuntime().addShutdownHook(new Thread(node::close, "llm-node-shutdown"));
            out.println("llm-node ready at " + node.address() + " (" + node.nodeId() + ", layers " + node.layers()
                    + ")");
            out.flush();
            node.blockUntilShutdown();
        } finally {
            zk.close();
        }
        return 0;
    }
}
