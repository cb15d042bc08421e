package io.convllava.coordinator.server;

import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.generate.EncodedImage;
import io.convllava.coordinator.generate.ImageEncoder;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.routing.Lease;
import io.convllava.coordinator.routing.Router;
import io.convllava.common.client.EncodedBatch;
import io.convllava.common.client.RemoteImageEncoder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.ArrayList;
import java.util.List;

/**
 * Encodes a request's images on the least loaded vision node, chosen when {@link #encode} is called (text-only
 * requests never reach a vision node). The node decodes the files and reports each original size, which the
 * grounding parser needs to map boxes back to image pixels.
 */
final class VisionNodeImageEncoder implements ImageEncoder {
    private final Router router;
    private final TransportOptions transport;
    private final int tokensPerImage;
    private final String requestId;

    VisionNodeImageEncoder(Router router, TransportOptions transport, int tokensPerImage, String requestId) {
        this.router = router;
        this.transport = transport;
        this.tokensPerImage = tokensPerImage;
        this.requestId = requestId;
    }

    @Override
    public List<EncodedImage> encode(List<ImageInput> images, boolean keepIntermediates) {
        List<byte[]> files = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            if (images.get(i).bytes() == null) {
                throw new IllegalArgumentException("image " + i + ": a cluster takes encoded image files only");
            }
            files.add(images.get(i).bytes());
        }
        EncodedBatch batch;
        try (Lease<NodeInfo> node = router.pickVisionNode()) {
            try {
                batch = new RemoteImageEncoder(router.channel(node.target()), transport)
                        .encode(requestId, files, keepIntermediates);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
                    throw new IllegalArgumentException(e.getStatus().getDescription(), e);
                }
                throw e;
            } catch (IllegalArgumentException | IllegalStateException e) {
                // a malformed answer is the cluster's fault, not the caller's
                throw Status.INTERNAL.withDescription("vision node " + node.target().nodeId() + ": " + e.getMessage())
                        .asRuntimeException();
            }
        }
        if (batch.tokensPerImage() != tokensPerImage) {
            throw Status.INTERNAL.withDescription("vision node answered " + batch.tokensPerImage()
                    + " tokens per image, the served model takes " + tokensPerImage).asRuntimeException();
        }
        List<EncodedImage> out = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            EncodedBatch.Size size = batch.sizes().get(i);
            out.add(new EncodedImage(batch.embeddings().get(i), size.width(), size.height(), null,
                    keepIntermediates ? batch.features().get(i) : null));
        }
        return out;
    }

    @Override
    public int tokensPerImage() {
        return tokensPerImage;
    }
}
