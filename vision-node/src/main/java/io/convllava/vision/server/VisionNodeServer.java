package io.convllava.vision.server;

import io.convllava.common.transport.GrpcServer;
import io.convllava.common.transport.NodeServer;
import io.convllava.common.transport.TransportOptions;
import io.convllava.vision.cache.CacheStats;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.model.VisionEncoder;

import java.io.IOException;
import java.util.List;

/** A running vision node: {@link VisionNodeService} on a Netty server (plus gRPC health). */
public final class VisionNodeServer extends NodeServer {
    /** The server's name in logs and in the UNAVAILABLE answer while the encoder loads. */
    public static final String NAME = "vision-node";

    private final VisionNodeService service;

    private VisionNodeServer(GrpcServer server, VisionNodeService service) {
        super(server);
        this.service = service;
    }

    /** Serves an encoder the caller owns (and closes); several nodes of a test can share one. */
    public static VisionNodeServer start(String host, int port, ImagePreprocessor preprocessor, VisionEncoder encoder,
                                         TransportOptions options, VisionServingOptions serving)
            throws IOException {
        GrpcServer bound = GrpcServer.bind(NAME, host, port, options);
        try {
            return serve(bound, preprocessor, encoder, serving);
        } catch (RuntimeException e) {
            bound.close();
            throw e;
        }
    }

    /** Serves the encoder on a server already listening ({@link GrpcServer#bind}), which this node now owns. */
    public static VisionNodeServer serve(GrpcServer bound, ImagePreprocessor preprocessor, VisionEncoder encoder,
                                         VisionServingOptions serving) {
        VisionNodeService service = new VisionNodeService(preprocessor, encoder, serving);
        try {
            return new VisionNodeServer(bound.serve(List.of(service)), service);
        } catch (RuntimeException e) {
            service.close();
            throw e;
        }
    }

    /** Encode calls being served right now. */
    public int inFlight() {
        return service.inFlight();
    }

    /** Embedding cache hits, misses and size since the node started. */
    public CacheStats cacheStats() {
        return service.cacheStats();
    }

    /** The service itself, for its counters. */
    public VisionNodeService service() {
        return service;
    }

    /** Stops the encode and preparation threads; the caller owns (and closes) the encoder. */
    @Override
    protected void afterStop() {
        service.close();
    }
}
