package io.convllava.vision.node;

import io.convllava.common.metrics.LoadProgress;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRegistration;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.node.Closing;
import io.convllava.common.node.Membership;
import io.convllava.common.node.RegisteredNode;
import io.convllava.common.transport.GrpcServer;
import io.convllava.common.transport.TransportOptions;
import io.convllava.vision.cache.CacheStats;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.model.VisionEncoder;
import io.convllava.vision.server.VisionNodeServer;
import io.convllava.vision.server.VisionServingOptions;
import org.apache.curator.framework.CuratorFramework;

import java.io.IOException;
import java.io.PrintStream;

/** A running vision node: the tower and projector behind the VisionNode service, registered in ZooKeeper. */
public final class VisionNode extends RegisteredNode<VisionNodeServer> {
    public static final int DEFAULT_PORT = 50061;

    private final VisionEncoder encoder;

    private VisionNode(VisionEncoder encoder, VisionNodeServer server, NodeRegistration registration) {
        super(server, registration, server::inFlight);
        this.encoder = encoder;
    }

    /** {@link #start(ModelFiles, String, String, String, int, String, long, VisionServingOptions, TransportOptions,
     * CuratorFramework, ZkLayout, PrintStream)} with the {@linkplain VisionEncoder#defaultEncodeMemoryLimit() default
     * encode memory limit}, the {@linkplain VisionServingOptions#DEFAULTS default serving options} and plaintext. */
    public static VisionNode start(ModelFiles files, String modelId, String device, String host, int port,
                                   String nodeId, CuratorFramework zk, ZkLayout layout, PrintStream log)
            throws IOException, InterruptedException {
        return start(files, modelId, device, host, port, nodeId, VisionEncoder.defaultEncodeMemoryLimit(),
                VisionServingOptions.DEFAULTS, TransportOptions.DEFAULTS, zk, layout, log);
    }

    /**
     * Listens on {@code host:port} (0 = any free port; a busy port fails at once), loads the tower, serves it and
     * registers.
     *
     * @param nodeId               null = {@code vision-<host>:<port>}
     * @param maxEncodeMemoryBytes bound on the estimated activation memory of the encodes running at once
     * @param serving              batch size, embedding cache budget, preparation threads, admission bound
     * @param transport            the server's gRPC settings (TLS)
     */
    public static VisionNode start(ModelFiles files, String modelId, String device, String host, int port,
                                   String nodeId, long maxEncodeMemoryBytes, VisionServingOptions serving,
                                   TransportOptions transport, CuratorFramework zk, ZkLayout layout, PrintStream log)
            throws IOException, InterruptedException {
        GrpcServer bound = GrpcServer.bind(VisionNodeServer.NAME, host, port, transport);
        VisionEncoder encoder = null;
        try {
            LoadProgress.report("vision", 0, 1);
            encoder = VisionEncoder.load(files, device, files.preprocessorConfig().cropHeight(), maxEncodeMemoryBytes,
                    message -> log.println("vision node: " + message));
            LoadProgress.report("vision", 1, 1);
            log.println("vision node: model revision " + encoder.revision() + ", batches of up to "
                    + serving.maxBatch() + ", embedding cache " + (serving.embeddingCacheBytes() == 0 ? "off"
                    : (serving.embeddingCacheBytes() >> 20) + " MiB"));
            VisionNodeServer server = VisionNodeServer.serve(bound, ImagePreprocessor.forModel(files), encoder,
                    serving);
            String id = nodeId != null ? nodeId : "vision-" + server.address();
            NodeRegistration registration = Membership.register(zk, layout,
                    NodeInfo.vision(id, host, server.port(), modelId, device));
            return new VisionNode(encoder, server, registration);
        } catch (IOException | InterruptedException | RuntimeException e) {
            bound.close();
            if (encoder != null) {
                encoder.close();
            }
            throw e;
        }
    }

    /** Embedding cache hits, misses and size since the node started. */
    public CacheStats cacheStats() {
        return server.cacheStats();
    }

    /** Frees the tower and projector. */
    @Override
    protected void afterStop() {
        Closing.inOrder(encoder);
    }
}
