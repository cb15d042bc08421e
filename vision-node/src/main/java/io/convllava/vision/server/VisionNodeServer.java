package io.convllava.vision.server;

import io.convllava.common.model.ModelFiles;
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
    private final VisionEncoder ownedEncoder;

    private VisionNodeServer(VisionNodeService service, String host, int port, TransportOptions options,
                             VisionEncoder ownedEncoder) throws IOException {
        super(GrpcServer.start("vision-node", host, port, options, List.of(service)));
        this.service = service;
        this.ownedEncoder = ownedEncoder;
    }

    /** Loads the model's vision tower and projector onto {@code device} and serves them; closing frees them. */
    public static VisionNodeServer start(String host, int port, ModelFiles files, String device,
                                         TransportOptions options, int maxBatch) throws IOException {
        VisionEncoder encoder = VisionEncoder.load(files, device);
        try {
            ImagePreprocessor preprocessor = new ImagePreprocessor(files.preprocessorConfig());
            return new VisionNodeServer(new VisionNodeService(preprocessor, encoder, maxBatch), host, port, options,
                    encoder);
        } catch (IOException | RuntimeException e) {
            encoder.close();
            throw e;
        }
    }

    /** Serves an encoder the caller keeps owning (several nodes of a test can share one). */
    public static VisionNodeServer start(String host, int port, ImagePreprocessor preprocessor, VisionEncoder encoder,
                                         TransportOptions options, int maxBatch) throws IOException {
        return new VisionNodeServer(new VisionNodeService(preprocessor, encoder, maxBatch), host, port, options, null);
    }

    /** Encode calls being served right now. */
    public int inFlight() {
        return service.inFlight();
    }

    /** Frees the encoder if this server loaded it. */
    @Override
    protected void afterStop() {
        if (ownedEncoder != null) {
            ownedEncoder.close();
        }
    }
}
