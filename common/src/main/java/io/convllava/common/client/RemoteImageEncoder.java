package io.convllava.common.client;

import com.google.protobuf.ByteString;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TensorCodec;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.EncodeRequest;
import io.convllava.proto.v1.EncodeResponse;
import io.convllava.proto.v1.ImageSize;
import io.convllava.proto.v1.VisionNodeGrpc;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;

import java.util.ArrayList;
import java.util.List;

/**
 * Client of a VisionNode (or a pool of them behind one channel). The caller owns the channel. Failures surface as
 * {@link StatusRuntimeException} with the node's status (INVALID_ARGUMENT for a bad image, naming its index).
 */
public final class RemoteImageEncoder {
    private final VisionNodeGrpc.VisionNodeBlockingStub stub;
    private final TransportOptions options;

    public RemoteImageEncoder(Channel channel, TransportOptions options) {
        this.stub = VisionNodeGrpc.newBlockingStub(channel);
        this.options = options;
    }

    /** Encodes {@code images} (encoded files) in order; {@code returnFeatures} also fetches pre-projector features. */
    public EncodedBatch encode(String requestId, List<byte[]> images, boolean returnFeatures) {
        EncodeRequest.Builder request = EncodeRequest.newBuilder().setRequestId(requestId)
                .setReturnFeatures(returnFeatures);
        images.forEach(bytes -> request.addImages(ByteString.copyFrom(bytes)));
        EncodeResponse response = Channels.withDeadline(stub, options).encode(request.build());
        return decode(response, images.size(), returnFeatures);
    }

    private static EncodedBatch decode(EncodeResponse response, int count, boolean returnFeatures) {
        if (response.getEmbeddingsCount() != count || response.getImageSizesCount() != count
                || (returnFeatures && response.getFeaturesCount() != count)) {
            throw new IllegalStateException("vision node answered " + response.getEmbeddingsCount() + " embeddings, "
                    + response.getFeaturesCount() + " features and " + response.getImageSizesCount()
                    + " sizes for " + count + " images");
        }
        int tokens = response.getTokensPerImage();
        List<HostTensor> embeddings = new ArrayList<>(count);
        List<HostTensor> features = new ArrayList<>();
        List<EncodedBatch.Size> sizes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            embeddings.add(TensorCodec.decode(response.getEmbeddings(i), "EncodeResponse.embeddings[" + i + "]",
                    tokens, -1));
            if (returnFeatures) {
                features.add(TensorCodec.decode(response.getFeatures(i), "EncodeResponse.features[" + i + "]",
                        tokens, -1));
            }
            ImageSize size = response.getImageSizes(i);
            sizes.add(new EncodedBatch.Size(size.getWidth(), size.getHeight()));
        }
        return new EncodedBatch(embeddings, features, sizes, tokens, response.getResolution());
    }
}
