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
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Client of a VisionNode (or a pool of them behind one channel). The caller owns the channel. Failures surface as
 * {@link StatusRuntimeException} with the node's status (INVALID_ARGUMENT for a bad image, naming its index).
 */
public final class RemoteImageEncoder {
    private final VisionNodeGrpc.VisionNodeBlockingStub stub;
    private final VisionNodeGrpc.VisionNodeStub asyncStub;
    private final TransportOptions options;

    public RemoteImageEncoder(Channel channel, TransportOptions options) {
        this.stub = VisionNodeGrpc.newBlockingStub(channel);
        this.asyncStub = VisionNodeGrpc.newStub(channel);
        this.options = options;
    }

    /** Encodes {@code images} (encoded files) in order; {@code returnFeatures} also fetches pre-projector features. */
    public EncodedBatch encode(String requestId, List<byte[]> images, boolean returnFeatures) {
        EncodeResponse response = Channels.withDeadline(stub, options).encode(request(requestId, images, List.of(),
                returnFeatures));
        return decode(response, images.size(), returnFeatures);
    }

    /**
     * Starts encoding {@code images} and returns at once; the call carries the current gRPC context's deadline and
     * cancellation. Failures complete the future with the {@link StatusRuntimeException}.
     *
     * @param numbers how the node's error messages number the images (one per image), or empty for 0, 1, 2, ...
     */
    public CompletableFuture<EncodedBatch> encodeAsync(String requestId, List<byte[]> images, List<Integer> numbers,
                                                       boolean returnFeatures) {
        if (!numbers.isEmpty() && numbers.size() != images.size()) {
            throw new IllegalArgumentException(numbers.size() + " image numbers for " + images.size() + " images");
        }
        CompletableFuture<EncodedBatch> result = new CompletableFuture<>();
        Channels.withDeadline(asyncStub, options).encode(request(requestId, images, numbers, returnFeatures),
                new StreamObserver<>() {
                    private EncodeResponse response;

                    @Override
                    public void onNext(EncodeResponse value) {
                        response = value;
                    }

                    @Override
                    public void onError(Throwable t) {
                        result.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        try {
                            result.complete(decode(response, images.size(), returnFeatures));
                        } catch (RuntimeException e) {
                            result.completeExceptionally(e);
                        }
                    }
                });
        return result;
    }

    private static EncodeRequest request(String requestId, List<byte[]> images, List<Integer> numbers,
                                         boolean returnFeatures) {
        EncodeRequest.Builder request = EncodeRequest.newBuilder().setRequestId(requestId)
                .setReturnFeatures(returnFeatures).addAllImageNumbers(numbers);
        images.forEach(bytes -> request.addImages(ByteString.copyFrom(bytes)));
        return request.build();
    }

    private static EncodedBatch decode(EncodeResponse response, int count, boolean returnFeatures) {
        if (response == null) {
            throw new IllegalStateException("vision node completed the call without an answer");
        }
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
        List<Boolean> cached = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            cached.add(i < response.getCachedCount() && response.getCached(i)); // older nodes send none
        }
        return new EncodedBatch(embeddings, features, sizes, tokens, response.getResolution(), cached);
    }
}
