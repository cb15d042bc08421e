package io.convllava.vision.server;

import io.convllava.common.tensor.HostTensor;
import io.convllava.common.transport.TensorCodec;
import io.convllava.proto.v1.EncodeRequest;
import io.convllava.proto.v1.EncodeResponse;
import io.convllava.proto.v1.ImageSize;
import io.convllava.proto.v1.VisionNodeGrpc;
import io.convllava.vision.image.ImageDecoder;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.image.InvalidImageException;
import io.convllava.vision.image.RgbImage;
import io.convllava.vision.model.EncodeMemoryLimitException;
import io.convllava.vision.model.EncodedImages;
import io.convllava.vision.model.VisionEncoder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The VisionNode service: decodes each image, preprocesses it and runs the tower and projector, in batches of at
 * most {@code maxBatch} images and at most as many as the encoder's memory limit admits. A bad image fails the call
 * with INVALID_ARGUMENT naming its index; nothing a request contains brings the node down. When not even one image
 * fits the limit, every call fails with FAILED_PRECONDITION: the node is configured too small for its model, which
 * retrying cannot fix (RESOURCE_EXHAUSTED says "overloaded, retry later"); encodes that fit but find the memory
 * taken by others wait instead.
 */
public final class VisionNodeService extends VisionNodeGrpc.VisionNodeImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(VisionNodeService.class);

    private final ImagePreprocessor preprocessor;
    private final VisionEncoder encoder;
    private final int maxBatch;
    private final AtomicInteger inFlight = new AtomicInteger();

    public VisionNodeService(ImagePreprocessor preprocessor, VisionEncoder encoder, int maxBatch) {
        if (preprocessor.resolution() != encoder.resolution()) {
            throw new IllegalArgumentException("preprocessor resolution " + preprocessor.resolution()
                    + " differs from the encoder's " + encoder.resolution());
        }
        if (maxBatch <= 0) {
            throw new IllegalArgumentException("maxBatch must be > 0, got " + maxBatch);
        }
        this.preprocessor = preprocessor;
        this.encoder = encoder;
        this.maxBatch = maxBatch;
    }

    @Override
    public void encode(EncodeRequest request, StreamObserver<EncodeResponse> response) {
        inFlight.incrementAndGet();
        try {
            response.onNext(encode(request));
            response.onCompleted();
        } catch (InvalidImageException | IllegalArgumentException e) {
            response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        } catch (EncodeMemoryLimitException e) {
            response.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
        } catch (RuntimeException e) {
            LOG.error("request {}: encoding failed", request.getRequestId(), e);
            response.onError(Status.INTERNAL.withDescription("encoding failed: " + e).withCause(e)
                    .asRuntimeException());
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Encode calls being served right now: the load this node reports. */
    public int inFlight() {
        return inFlight.get();
    }

    private EncodeResponse encode(EncodeRequest request) {
        if (request.getImagesCount() == 0) {
            throw new IllegalArgumentException("EncodeRequest.images is empty");
        }
        List<RgbImage> images = new ArrayList<>(request.getImagesCount());
        for (int i = 0; i < request.getImagesCount(); i++) {
            try {
                images.add(ImageDecoder.decode(request.getImages(i).toByteArray()));
            } catch (InvalidImageException e) {
                throw new InvalidImageException("image " + i + ": " + e.getMessage(), e);
            }
        }
        EncodeResponse.Builder out = EncodeResponse.newBuilder()
                .setTokensPerImage(encoder.tokensPerImage())
                .setResolution(encoder.resolution());
        int batchSize = Math.max(1, encoder.imagesWithinLimit(maxBatch)); // 0: encode refuses with the reason
        for (int from = 0; from < images.size(); from += batchSize) {
            List<RgbImage> batch = images.subList(from, Math.min(images.size(), from + batchSize));
            EncodedImages encoded = encoder.encode(preprocessor.preprocessBatch(batch)); // [B, 3, R, R] in
            for (int b = 0; b < batch.size(); b++) {
                out.addEmbeddings(TensorCodec.encode(row(encoded.embeddings(), b)));
                if (request.getReturnFeatures()) {
                    out.addFeatures(TensorCodec.encode(row(encoded.features(), b)));
                }
            }
        }
        for (RgbImage image : images) {
            out.addImageSizes(ImageSize.newBuilder().setWidth(image.width()).setHeight(image.height()));
        }
        return out.build();
    }

    /** [B, N, C] -> the b-th [N, C]. */
    private static HostTensor row(HostTensor batch, int b) {
        int size = Math.toIntExact(batch.dim(1) * batch.dim(2));
        return new HostTensor(Arrays.copyOfRange(batch.shape(), 1, 3),
                Arrays.copyOfRange(batch.data(), b * size, (b + 1) * size));
    }
}
