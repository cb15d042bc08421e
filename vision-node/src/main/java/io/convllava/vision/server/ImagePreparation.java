package io.convllava.vision.server;

import com.google.protobuf.ByteString;
import io.convllava.vision.image.ImageDecoder;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.image.InvalidImageException;
import io.convllava.vision.image.RgbImage;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decodes and preprocesses images on a fixed pool of threads, so the images of a request, and of concurrent
 * requests, are prepared in parallel while the tower works. The queue in front of the pool is bounded by the
 * service's admission ({@link VisionServingOptions#maxQueuedImages()}), not here; the heap the images being prepared
 * take at once by {@link DecodeMemory}, from their headers before they are decoded. The pool also runs the short
 * steps around an encode (serialising results), so the encode thread never waits on them.
 */
final class ImagePreparation implements AutoCloseable {
    private final ImagePreprocessor preprocessor;
    private final ExecutorService pool;
    private final DecodeMemory memory;

    ImagePreparation(ImagePreprocessor preprocessor, int threads) {
        this(preprocessor, threads, DecodeMemory.ofHeap());
    }

    /** @param memory bounds the heap the images being prepared take at once */
    ImagePreparation(ImagePreprocessor preprocessor, int threads, DecodeMemory memory) {
        if (threads <= 0) {
            throw new IllegalArgumentException("image preparation threads must be > 0, got " + threads);
        }
        this.preprocessor = preprocessor;
        this.memory = memory;
        this.pool = Executors.newFixedThreadPool(threads, daemonThreads("vision-prepare-"));
    }

    /**
     * Decodes and preprocesses {@code file} on the pool. A file that cannot be decoded fails the future with an
     * {@link InvalidImageException} whose message starts with {@code "image <number>: "}. Cancelling the future
     * before a thread has taken it skips the work.
     */
    CompletableFuture<PreparedImage> submit(int number, ByteString file) {
        return CompletableFuture.supplyAsync(() -> {
            byte[] bytes = file.toByteArray();
            try {
                ImageDecoder.Header header = ImageDecoder.header(bytes, ImageDecoder.DEFAULT_MAX_PIXELS,
                        preprocessor.padsToSquare());
                try (DecodeMemory.Permit permit = memory.reserve(DecodeMemory.estimate(header.width(),
                        header.height(), preprocessor.padsToSquare(), preprocessor.resolution()))) {
                    RgbImage image = ImageDecoder.decode(bytes, header);
                    return new PreparedImage(preprocessor.preprocess(image), image.width(), image.height());
                }
            } catch (InvalidImageException e) {
                throw new InvalidImageException("image " + number + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for memory to decode image " + number, e);
            }
        }, pool);
    }

    /** The pool, for short follow-up steps. */
    Executor executor() {
        return pool;
    }

    /** The side R of the pixels this prepares. */
    int resolution() {
        return preprocessor.resolution();
    }

    /** Stops the threads; work not started is dropped. */
    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread t = new Thread(task, prefix + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
