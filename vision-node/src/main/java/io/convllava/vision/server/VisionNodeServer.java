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

    private final VisionNodeService service;

    private VisionNodeServer(VisionNodeService service, String host, int port, TransportOptions options)
            throws IOException {
        super(GrpcServer.start("vision-node", host, port, options, List.of(service)));
        this.service = service;
    }

    /** Serves an encoder the caller owns (and closes); several nodes of a test can share one. */
    public static VisionNodeServer start(String host, int port, ImagePreprocessor preprocessor, VisionEncoder encoder,
                                         TransportOptions options, int maxBatch) throws IOException {
        return new VisionNodeServer(new VisionNodeService(preprocessor, encoder, maxBatch), host, port, options);
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
