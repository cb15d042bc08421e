package io.convllava.deploy;

import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRegistration;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.transport.TransportOptions;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.model.VisionEncoder;
import io.convllava.vision.server.VisionNodeServer;
import org.apache.curator.framework.CuratorFramework;

import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;

/** A running vision node: the tower and projector behind the VisionNode service, registered in ZooKeeper. */
public final class VisionNode implements AutoCloseable {
    public static final int DEFAULT_PORT = 50061;

    private final VisionEncoder encoder;
    private final VisionNodeServer server;
    private final NodeRegistration registration;
    private final LoadReporter loadReporter;
    private final AtomicBoolean closed = new AtomicBoolean();

    private VisionNode(VisionEncoder encoder, VisionNodeServer server, NodeRegistration registration) {
        this.encoder = encoder;
        this.server = server;
        this.registration = registration;
        this.loadReporter = new LoadReporter(registration, server::inFlight);
    }

    /**
     * Loads the tower, serves it on {@code host:port} (0 = any free port) and registers.
     *
     * @param nodeId null = {@code vision-<host>:<port>}
     */
    public static VisionNode start(ModelFiles files, String modelId, String device, String host, int port,
                                   String nodeId, CuratorFramework zk, ZkLayout layout, PrintStream log)
            throws IOException, InterruptedException {
        VisionEncoder encoder = VisionEncoder.load(files, device, message -> log.println("vision node: " + message));
        VisionNodeServer server = null;
        try {
            server = VisionNodeServer.start(host, port, new ImagePreprocessor(files.preprocessorConfig()), encoder,
                    TransportOptions.DEFAULTS, VisionNodeServer.DEFAULT_MAX_BATCH);
            String id = nodeId != null ? nodeId : "vision-" + server.address();
            NodeRegistration registration = Membership.register(zk, layout,
                    NodeInfo.vision(id, host, server.port(), modelId, device));
            return new VisionNode(encoder, server, registration);
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            encoder.close();
            throw e;
        }
    }

    public String nodeId() {
        return registration.info().nodeId();
    }

    public String address() {
        return server.address();
    }

    public void blockUntilShutdown() throws InterruptedException {
        server.blockUntilShutdown();
    }

    /** Leaves the cluster, then stops serving. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Closing.inOrder(loadReporter, registration, server, encoder);
        }
    }
}
