package io.convllava.vision.server;

import com.google.protobuf.ByteString;
import io.convllava.common.transport.RequestIds;
import io.convllava.common.transport.TensorCodec;
import io.convllava.proto.v1.EncodeRequest;
import io.convllava.proto.v1.EncodeResponse;
import io.convllava.proto.v1.ImageSize;
import io.convllava.proto.v1.VisionNodeGrpc;
import io.convllava.vision.cache.CacheStats;
import io.convllava.vision.cache.CachedEncoding;
import io.convllava.vision.cache.EmbeddingCache;
import io.convllava.vision.cache.EmbeddingKey;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.image.InvalidImageException;
import io.convllava.vision.model.EncodeMemoryLimitException;
import io.convllava.vision.model.VisionEncoder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The VisionNode service. Each image is looked up in the {@link EmbeddingCache} by the SHA-256 of its bytes and the
 * encoder's revision; a hit is answered as cached, without decoding, preprocessing or encoding. The other images
 * are decoded and preprocessed in parallel ({@link ImagePreparation}), then encoded through the node's one
 * {@link EncodeQueue}, which batches images of concurrent requests, and cached. Calls do not hold a handler thread
 * while they wait; a call the client cancels drops its images that have not started.
 * <p>
 * Errors: a bad image fails the call with INVALID_ARGUMENT naming its number (the lowest one when several are bad;
 * nothing of that request is encoded); too many images in progress, RESOURCE_EXHAUSTED; an image that does not fit
 * the encode memory limit even alone, FAILED_PRECONDITION (the node is configured too small for its model, which
 * retrying cannot fix); a node shutting down, UNAVAILABLE. Nothing a request contains brings the node down.
 */
public final class VisionNodeService extends VisionNodeGrpc.VisionNodeImplBase implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VisionNodeService.class);

    private final VisionEncoder encoder;
    private final ImagePreparation preparation;
    private final EncodeQueue queue;
    private final EmbeddingCache cache;
    private final ImageAdmission admission;
    private final AtomicInteger inFlight = new AtomicInteger();

    /** Starts the preparation threads and the encode thread; {@link #close} stops them. */
    public VisionNodeService(ImagePreprocessor preprocessor, VisionEncoder encoder, VisionServingOptions options) {
        if (preprocessor.resolution() != encoder.resolution()) {
            throw new IllegalArgumentException("preprocessor resolution " + preprocessor.resolution()
                    + " differs from the encoder's " + encoder.resolution());
        }
        this.encoder = encoder;
        this.cache = new EmbeddingCache(options.embeddingCacheBytes());
        this.admission = new ImageAdmission(options.maxQueuedImages());
        this.queue = new EncodeQueue(encoder, options.maxBatch());
        this.preparation = new ImagePreparation(preprocessor, options.preparationThreads());
        queue.start();
    }

    @Override
    public void encode(EncodeRequest request, StreamObserver<EncodeResponse> observer) {
        ServerCallStreamObserver<EncodeResponse> call = (ServerCallStreamObserver<EncodeResponse>) observer;
        inFlight.incrementAndGet();
        EncodeCall work = new EncodeCall(request);
        // set before any work starts; with a cancel handler, answers after a cancel are dropped, not thrown
        call.setOnCancelHandler(work::cancel);
        CompletableFuture<EncodeResponse> answer;
        try {
            answer = work.start();
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((response, error) -> {
            inFlight.decrementAndGet();
            work.finish();
            if (call.isCancelled()) {
                LOG.debug("request {}: the client left before the answer", request.getRequestId());
            } else if (error == null) {
                call.onNext(response);
                call.onCompleted();
            } else {
                call.onError(statusOf(unwrap(error), request.getRequestId()));
            }
        });
    }

    /** Encode calls being served right now: the load this node reports. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Embedding cache hits, misses and size since the node started. */
    public CacheStats cacheStats() {
        return cache.stats();
    }

    /** Tower calls made so far (fewer than {@link #imagesEncoded()} when images were batched). */
    public long encodeBatches() {
        return queue.batches();
    }

    /** Images that went through the tower so far. */
    public long imagesEncoded() {
        return queue.images();
    }

    /** The revision cached embeddings are keyed by. */
    public String revision() {
        return encoder.revision();
    }

    /** Stops encoding (after the batch running) and preparing; calls still waiting fail UNAVAILABLE. */
    @Override
    public void close() {
        queue.close();
        preparation.close();
    }

    private static StatusRuntimeException statusOf(Throwable e, String requestId) {
        if (e instanceof StatusRuntimeException s) {
            return s;
        }
        if (e instanceof InvalidImageException || e instanceof IllegalArgumentException) {
            return Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof EncodeMemoryLimitException) {
            return Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof IllegalStateException) {
            return Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof CancellationException) {
            return Status.CANCELLED.withDescription("the call was cancelled").asRuntimeException();
        }
        if (e instanceof ImageFailure) {
            LOG.error("request {}: {}", requestId, e.getMessage(), e.getCause());
            return Status.INTERNAL.withDescription(e.getMessage()).withCause(e.getCause()).asRuntimeException();
        }
        LOG.error("request {}: encoding failed", requestId, e);
        return Status.INTERNAL.withDescription("encoding failed: " + e).withCause(e).asRuntimeException();
    }

    private static Throwable unwrap(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    private static String sha256(ByteString bytes) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes.asReadOnlyByteBuffer());
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    /** One Encode call: its cache lookups, its images' preparation and encoding, and their cancellation. */
    private final class EncodeCall {
        private final EncodeRequest request;
        private final List<CompletableFuture<?>> pending = new ArrayList<>();
        private volatile int admitted;
        private boolean cancelled;

        EncodeCall(EncodeRequest request) {
            this.request = request;
        }

        CompletableFuture<EncodeResponse> start() {
            int count = request.getImagesCount();
            if (count == 0) {
                throw new IllegalArgumentException("EncodeRequest.images is empty");
            }
            if (request.getImageNumbersCount() != 0 && request.getImageNumbersCount() != count) {
                throw new IllegalArgumentException("EncodeRequest.image_numbers has " + request.getImageNumbersCount()
                        + " entries for " + count + " images: give one per image, or none");
            }
            boolean features = request.getReturnFeatures();
            EmbeddingKey[] keys = new EmbeddingKey[count];
            CachedEncoding[] hits = new CachedEncoding[count];
            List<Integer> misses = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                keys[i] = new EmbeddingKey(sha256(request.getImages(i)), encoder.revision());
                hits[i] = cache.lookup(keys[i], features).orElse(null);
                if (hits[i] == null) {
                    misses.add(i);
                }
            }
            VisionMetrics.IMAGES.labelValues("cache").inc(count - misses.size());
            VisionMetrics.IMAGES.labelValues("encoded").inc(misses.size());
            if (LOG.isInfoEnabled()) {
                String requestId = request.getRequestId();
                LOG.atInfo().addKeyValue(RequestIds.LOG_KEY, requestId).log("request {}: {} image(s), {} from the"
                        + " embedding cache; node totals {}", requestId.isEmpty() ? "(no id)" : requestId, count,
                        count - misses.size(), cache.stats());
            }
            if (misses.isEmpty()) {
                return CompletableFuture.completedFuture(response(hits, hits));
            }
            admission.admit(misses.size());
            admitted = misses.size();
            List<CompletableFuture<PreparedImage>> prepared = new ArrayList<>(misses.size());
            for (int i : misses) {
                prepared.add(track(preparation.submit(number(i), request.getImages(i))));
            }
            CompletableFuture<?>[] encoded = new CompletableFuture<?>[misses.size()];
            CachedEncoding[] answers = hits.clone();
            return allPrepared(prepared).thenCompose(images -> {
                for (int m = 0; m < misses.size(); m++) {
                    int i = misses.get(m);
                    PreparedImage image = images.get(m);
                    encoded[m] = track(queue.submit(image.pixels())).handleAsync((out, error) -> {
                        if (error != null) {
                            throw named(number(i), unwrap(error));
                        }
                        CachedEncoding entry = toCached(out, image, features);
                        cache.put(keys[i], entry);
                        answers[i] = entry;
                        return entry;
                    }, preparation.executor());
                }
                return CompletableFuture.allOf(encoded);
            }).thenApply(done -> response(answers, hits));
        }

        /**
         * Every image prepared, in order; else the failure of the lowest-numbered image that failed, once every
         * image has been tried (so which image is named does not depend on timing).
         */
        private CompletableFuture<List<PreparedImage>> allPrepared(List<CompletableFuture<PreparedImage>> prepared) {
            return CompletableFuture.allOf(prepared.toArray(CompletableFuture[]::new)).handle((ignored, failure) -> {
                List<PreparedImage> images = new ArrayList<>(prepared.size());
                for (CompletableFuture<PreparedImage> f : prepared) {
                    images.add(f.join()); // throws the first failure in request order
                }
                return images;
            });
        }

        private EncodeResponse response(CachedEncoding[] answers, CachedEncoding[] hits) {
            EncodeResponse.Builder out = EncodeResponse.newBuilder()
                    .setTokensPerImage(encoder.tokensPerImage())
                    .setResolution(encoder.resolution())
                    .setModelRevision(encoder.revision());
            for (int i = 0; i < answers.length; i++) {
                out.addEmbeddings(answers[i].embeddings());
                if (request.getReturnFeatures()) {
                    out.addFeatures(answers[i].features());
                }
                out.addImageSizes(answers[i].size());
                out.addCached(hits[i] != null);
            }
            return out.build();
        }

        private int number(int i) {
            return request.getImageNumbersCount() == 0 ? i : request.getImageNumbers(i);
        }

        private synchronized <T> CompletableFuture<T> track(CompletableFuture<T> future) {
            pending.add(future);
            if (cancelled) {
                future.cancel(false);
            }
            return future;
        }

        /** The client left: images not yet started are dropped. */
        synchronized void cancel() {
            cancelled = true;
            for (CompletableFuture<?> f : pending) {
                f.cancel(false);
            }
        }

        /** Gives the images back to admission (once the call has ended, whatever the outcome). */
        synchronized void finish() {
            if (admitted > 0) {
                admission.release(admitted);
                admitted = 0;
            }
        }
    }

    /** An encoder failure as the image's own, unless it is one the caller is told about as it is. */
    private static RuntimeException named(int number, Throwable error) {
        if (error instanceof EncodeMemoryLimitException || error instanceof IllegalStateException
                || error instanceof CancellationException) {
            return (RuntimeException) error;
        }
        return new ImageFailure("image " + number + ": encoding failed: " + error, error);
    }

    /** An image that could not be encoded for a reason of the node's (INTERNAL). */
    private static final class ImageFailure extends RuntimeException {
        ImageFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static CachedEncoding toCached(ImageEncoding out, PreparedImage image, boolean features) {
        return new CachedEncoding(TensorCodec.encode(out.embeddings()),
                features ? TensorCodec.encode(out.features()) : null,
                ImageSize.newBuilder().setWidth(image.width()).setHeight(image.height()).build());
    }
}
