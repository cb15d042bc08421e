package io.convllava.cli;

import io.convllava.common.model.ModelFiles;
import io.convllava.vision.model.VisionEncoder;
import io.convllava.vision.node.VisionNode;
import io.convllava.vision.server.VisionServingOptions;
import io.convllava.common.metrics.MetricsEndpoint;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

/** {@code convllava vision-node}: encodes images for a cluster until SIGINT or SIGTERM. */
@Command(name = "vision-node", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve the vision tower and projector (image decoding, preprocessing, encoding) to a cluster.")
final class VisionNodeCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Mixin
    NodeOptions node;

    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOption device;

    @Option(names = "--port", defaultValue = "" + VisionNode.DEFAULT_PORT, paramLabel = "PORT",
            description = "gRPC port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--encode-memory-limit", paramLabel = "SIZE", converter = ByteSizeConverter.class,
            description = "Bound on the estimated activation memory of the encodes running at once, e.g. 4GiB or"
                    + " 512M; encodes beyond it wait, and a request whose one image needs more is refused (default:"
                    + " a quarter of this machine's memory, at most 4 GiB).")
    Long encodeMemoryLimit;

    @Option(names = "--embedding-cache-bytes", paramLabel = "SIZE", converter = ByteSizeConverter.class,
            defaultValue = "1GiB", description = "Byte budget of the embedding cache: the embeddings of recently"
                    + " encoded images, by the SHA-256 of the image file and the model revision; a repeated image"
                    + " skips decoding and the tower. Least recently used entries go first; 0 disables it (default:"
                    + " ${DEFAULT-VALUE}, about 450 images at 768 px for a 7B model).")
    long embeddingCacheBytes;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "" + VisionServingOptions.DEFAULT_MAX_BATCH,
            description = "Most waiting images stacked into one tower call (fewer when --encode-memory-limit admits"
                    + " fewer). A batch raises throughput under load but makes its first image wait for the last;"
                    + " 1 encodes one image at a time (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Override
    public Integer call() throws Exception {
        ModelFiles files = model.files();
        try (MetricsEndpoint metrics = node.startMetrics(main.err());
             CuratorFramework zk = node.connect(main.err());
             VisionNode vision = VisionNode.start(files, model.id(node.modelId), device.device, node.host, port,
                     node.nodeId, encodeMemoryLimit != null ? encodeMemoryLimit
                             : VisionEncoder.defaultEncodeMemoryLimit(), serving(), node.transport(main.err()), zk,
                     node.layout(), main.err())) {
            Runtime.getRuntime().addShutdownHook(new Thread(vision::close, "vision-node-shutdown"));
            main.announceReady("vision-node", vision.nodeId(),
                    "vision-node ready at " + vision.address() + " (" + vision.nodeId() + ")");
            vision.blockUntilShutdown();
        }
        return 0;
    }

    private VisionServingOptions serving() {
        if (maxBatch < 1) {
            throw new UsageException("--max-batch must be >= 1, got " + maxBatch);
        }
        if (embeddingCacheBytes < 0) {
            throw new UsageException("--embedding-cache-bytes must be >= 0, got " + embeddingCacheBytes);
        }
        return VisionServingOptions.DEFAULTS.withMaxBatch(maxBatch).withEmbeddingCacheBytes(embeddingCacheBytes);
    }
}
