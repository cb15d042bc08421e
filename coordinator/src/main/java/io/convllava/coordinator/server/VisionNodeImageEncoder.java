package io.convllava.coordinator.server;

import com.google.protobuf.UnsafeByteOperations;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TensorCodec;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.generate.EncodedImage;
import io.convllava.coordinator.generate.ImageEncoder;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.routing.Lease;
import io.convllava.coordinator.routing.Router;
import io.convllava.proto.v1.EncodeRequest;
import io.convllava.proto.v1.EncodeResponse;
import io.convllava.proto.v1.ImageSize;
import io.convllava.proto.v1.VisionNodeGrpc;
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
        EncodeRequest.Builder request = EncodeRequest.newBuilder().setRequestId(requestId)
                .setReturnFeatures(keepIntermediates);
        for (int i = 0; i < images.size(); i++) {
            if (images.get(i).bytes() == null) {
                throw new IllegalArgumentException("image " + i + ": a cluster takes encoded image files only");
            }
            request.addImages(UnsafeByteOperations.unsafeWrap(images.get(i).bytes()));
        }
        EncodeResponse response;
        NodeInfo node;
        try (Lease<NodeInfo> lease = router.pickVisionNode()) {
            node = lease.target();
            response = Channels.withDeadline(VisionNodeGrpc.newBlockingStub(router.channel(node)), transport)
                    .encode(request.build());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
                throw new IllegalArgumentException(e.getStatus().getDescription(), e);
            }
            throw e;
        }
        return decode(response, images.size(), keepIntermediates, node);
    }

    private List<EncodedImage> decode(EncodeResponse r, int count, boolean withFeatures, NodeInfo node) {
        if (r.getEmbeddingsCount() != count || r.getImageSizesCount() != count
                || (withFeatures && r.getFeaturesCount() != count)) {
            throw Status.INTERNAL.withDescription("vision node " + node.nodeId() + " answered " + r.getEmbeddingsCount()
                    + " embeddings and " + r.getImageSizesCount() + " sizes for " + count + " images")
                    .asRuntimeException();
        }
        List<EncodedImage> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String from = "vision node " + node.nodeId() + ": EncodeResponse.";
            try {
                HostTensor embeddings = TensorCodec.decode(r.getEmbeddings(i), from + "embeddings[" + i + "]",
                        tokensPerImage, -1);
                HostTensor features = withFeatures ? TensorCodec.decode(r.getFeatures(i), from + "features[" + i + "]",
                        tokensPerImage, -1) : null;
                ImageSize size = r.getImageSizes(i);
                out.add(new EncodedImage(embeddings, size.getWidth(), size.getHeight(), null, features));
            } catch (IllegalArgumentException e) {
                // a malformed answer is the cluster's fault, not the caller's
                throw Status.INTERNAL.withDescription(e.getMessage()).asRuntimeException();
            }
        }
        return out;
    }

    @Override
    public int tokensPerImage() {
        return tokensPerImage;
    }
}
