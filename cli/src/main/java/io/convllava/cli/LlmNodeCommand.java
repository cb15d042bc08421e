package io.convllava.cli;

import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.model.ModelFiles;
import io.convllava.llm.node.LlmNode;
import io.convllava.common.metrics.MetricsEndpoint;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code convllava llm-node}: serves a range of decoder layers for a cluster until SIGINT or SIGTERM. */
@Command(name = "llm-node", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve a contiguous range of decoder layers (with their KV cache) to a cluster.")
final class LlmNodeCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Option(names = "--layers", required = true, paramLabel = "a-b|auto",
            description = "Half-open layer range (0-16 holds layers 0..15), or auto: the plan leader assigns one and"
                    + " may move it later.")
    String layers;

    @Mixin
    NodeOptions node;

    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOption device;

    @Option(names = "--port", defaultValue = "" + LlmNode.DEFAULT_PORT, paramLabel = "PORT",
            description = "gRPC port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Mixin
    BatchOptions batching;

    @Option(names = "--assignment-wait-s", defaultValue = "600", paramLabel = "SECONDS",
            description = "How long an auto node waits for the plan to assign layers (default: ${DEFAULT-VALUE}).")
    long assignmentWaitSeconds;

    @Override
    public Integer call() throws Exception {
        ModelFiles files = model.files();
        if (!NodeInfo.AUTO.equals(layers)) {
            try {
                LlmNode.parseRange(layers, files.llmConfig().numHiddenLayers()); // a typo fails before connecting
            } catch (IllegalArgumentException e) {
                throw new UsageException("--layers " + e.getMessage());
            }
        }
        try (MetricsEndpoint metrics = node.startMetrics(main.err());
             CuratorFramework zk = node.connect(main.err());
             LlmNode llm = LlmNode.start(files, model.id(node.modelId), layers, device.device, node.host, port,
                     node.nodeId, zk, node.layout(), Duration.ofSeconds(assignmentWaitSeconds), batching.limits(),
                     node.transport(main.err()), main.err())) {
            Runtime.getRuntime().addShutdownHook(new Thread(llm::close, "llm-node-shutdown"));
            main.announceReady("llm-node", llm.nodeId(), "llm-node ready at " + llm.address() + " (" + llm.nodeId()
                    + ", layers " + llm.layers() + ")");
            llm.blockUntilShutdown();
        }
        return 0;
    }
}
