package io.convllava.vision.server;

import io.convllava.common.transport.GrpcServer;
import io.convllava.common.transport.NodeServer;
import io.convllava.common.transport.TransportOptions;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.model.VisionEncoder;

import java.io.IOException;
import java.util.List;

/** A running vision node: {@link VisionNodeService} on a Netty server (plus gRPC health). */
public final class VisionNodeServer extends NodeServer {
    /** Images encoded together by default: enough to fill a GPU, small enough for CPU memory at 1536 px. */
    public static final int DEFAULT_MAX_BATCH = 8;
    /** The server's name in logs and in the UNAVAILABLE answer while the encoder loads. */
    public static final String NAME = "vision-node";

    private final VisionNodeService service;

    private VisionNodeServer(GrpcServer server, VisionNodeService service) {
        super(server);
        this.service = service;
    }

    /** Serves an encoder the caller owns (and closes); several nodes of a test can share one. */
    public static VisionNodeServer start(String host, int port, ImagePreprocessor preprocessor, VisionEncoder encoder,
                                         TransportOptions options, int maxBatch) throws IOException {
        GrpcServer bound = GrpcServer.bind(NAME, host, port, options);
        try {
            return serve(bound, preprocessor, encoder, maxBatch);
        } catch (RuntimeException e) {
            bound.close();
            throw e;
        }
    }

    /** Serves the encoder on a server already listening ({@link GrpcServer#bind}), which this node now owns. */
    public static VisionNodeServer serve(GrpcServer bound, ImagePreprocessor preprocessor, VisionEncoder encoder,
                                         int maxBatch) {
        VisionNodeService service = new VisionNodeService(preprocessor, encoder, maxBatch);
        return new VisionNodeServer(bound.serve(List.of(service)), service);
    }

    /** Encode calls being served right now. */
    public int inFlight() {
        return service.inFlight();
    }

    /** Nothing to free: the caller owns the encoder. */
    @Override
    protected void afterStop() {
    }
}
