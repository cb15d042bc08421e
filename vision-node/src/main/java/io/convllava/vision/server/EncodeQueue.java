package io.convllava.vision.server;

import io.convllava.common.node.FaultInjection;
import io.convllava.common.tensor.HostTensor;
import io.convllava.vision.model.EncodedImages;
import io.convllava.vision.model.VisionEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one way into a vision node's tower: images from every request wait here, and one thread encodes them in
 * arrival order, stacking what is waiting (up to {@code maxBatch} images of the same shape, and no more than the
 * encoder's memory limit admits) into one [B, 3, R, R] call. Nothing waits for a batch to fill: a lone image is
 * encoded at once, and images arriving during an encode form the next batch. One encode at a time suits both
 * devices: libtorch spreads one call over every CPU core, and a GPU gains from batches, not from interleaved
 * calls. An image whose future is cancelled before its batch starts is skipped.
 */
final class EncodeQueue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EncodeQueue.class);

    private final long encodeDelayMs = FaultInjection.delayMs(FaultInjection.ENCODE_DELAY);
    private final VisionEncoder encoder;
    private final int maxBatch;
    private final BlockingQueue<Item> waiting = new LinkedBlockingQueue<>();
    private final Thread worker;
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong images = new AtomicLong();
    private volatile boolean closed;

    EncodeQueue(VisionEncoder encoder, int maxBatch) {
        if (maxBatch <= 0) {
            throw new IllegalArgumentException("maxBatch must be > 0, got " + maxBatch);
        }
        this.encoder = encoder;
        this.maxBatch = maxBatch;
        this.worker = new Thread(this::run, "vision-encode");
        this.worker.setDaemon(true);
    }

    /** Starts encoding; images submitted before wait until then (and then form one batch). */
    EncodeQueue start() {
        worker.start();
        return this;
    }

    /**
     * Queues one image, float32 [3, R, R]. The future completes on the encode thread, or exceptionally with the
     * encoder's exception (e.g. {@link io.convllava.vision.model.EncodeMemoryLimitException}) for every image of a
     * failed batch, or with an {@link IllegalStateException} once the queue is closed.
     */
    CompletableFuture<ImageEncoding> submit(HostTensor pixels) {
        if (pixels.rank() != 3) {
            throw new IllegalArgumentException("pixels must be [3, R, R], got " + Arrays.toString(pixels.shape()));
        }
        Item item = new Item(pixels, new CompletableFuture<>());
        if (closed) {
            item.result.completeExceptionally(shutDown());
            return item.result;
        }
        waiting.add(item);
        if (closed && waiting.remove(item)) { // close() may have drained the queue before the add
            item.result.completeExceptionally(shutDown());
        }
        return item.result;
    }

    /** Tower calls made so far. */
    long batches() {
        return batches.get();
    }

    /** Images encoded so far. */
    long images() {
        return images.get();
    }

    /** The most images one call may take. */
    int maxBatch() {
        return maxBatch;
    }

    /** Finishes the batch running, then fails every image still waiting. */
    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        try {
            if (worker.isAlive()) {
                worker.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Item item; (item = waiting.poll()) != null; ) {
            item.result.completeExceptionally(shutDown());
        }
    }

    private void run() {
        while (!closed) {
            List<Item> batch;
            try {
                batch = nextBatch();
            } catch (InterruptedException e) {
                return;
            }
            if (!batch.isEmpty()) {
                encode(batch);
            }
        }
    }

    /** Waits for an image, then takes what else is waiting that fits into the same call. */
    private List<Item> nextBatch() throws InterruptedException {
        Item first = waiting.take();
        List<Item> batch = new ArrayList<>();
        if (first.result.isDone()) {
            return batch; // cancelled while waiting
        }
        batch.add(first);
        int limit = Math.max(1, encoder.imagesWithinLimit(maxBatch)); // 0: the encoder refuses with the reason
        while (batch.size() < limit) {
            Item next = waiting.peek(); // this thread alone takes from the queue
            if (next == null || !Arrays.equals(next.pixels.shape(), first.pixels.shape())) {
                break;
            }
            waiting.poll();
            if (!next.result.isDone()) {
                batch.add(next);
            }
        }
        return batch;
    }

    private void encode(List<Item> batch) {
        FaultInjection.pause(encodeDelayMs);
        try {
            EncodedImages out = encoder.encode(stack(batch));
            batches.incrementAndGet();
            images.addAndGet(batch.size());
            for (int b = 0; b < batch.size(); b++) {
                batch.get(b).result.complete(new ImageEncoding(row(out.features(), b), row(out.embeddings(), b)));
            }
        } catch (RuntimeException | Error e) {
            if (e instanceof Error) {
                LOG.error("encoding a batch of {} image(s) failed", batch.size(), e);
            }
            for (Item item : batch) {
                item.result.completeExceptionally(e);
            }
        }
    }

    /** [3, R, R] each -> [B, 3, R, R]; a lone image is only reshaped. */
    private static HostTensor stack(List<Item> batch) {
        long[] shape = new long[4];
        shape[0] = batch.size();
        System.arraycopy(batch.get(0).pixels.shape(), 0, shape, 1, 3);
        if (batch.size() == 1) {
            return new HostTensor(shape, batch.get(0).pixels.data());
        }
        int plane = batch.get(0).pixels.data().length;
        float[] data = new float[Math.multiplyExact(batch.size(), plane)];
        for (int b = 0; b < batch.size(); b++) {
            System.arraycopy(batch.get(b).pixels.data(), 0, data, b * plane, plane);
        }
        return new HostTensor(shape, data);
    }

    /** [B, N, C] -> the b-th [N, C]. */
    private static HostTensor row(HostTensor batch, int b) {
        if (batch.dim(0) == 1) {
            return new HostTensor(Arrays.copyOfRange(batch.shape(), 1, 3), batch.data());
        }
        int size = Math.toIntExact(batch.dim(1) * batch.dim(2));
        return new HostTensor(Arrays.copyOfRange(batch.shape(), 1, 3),
                Arrays.copyOfRange(batch.data(), b * size, (b + 1) * size));
    }

    private static IllegalStateException shutDown() {
        return new IllegalStateException("the vision node is shutting down");
    }

    /** An image waiting, and where its result goes. */
    private record Item(HostTensor pixels, CompletableFuture<ImageEncoding> result) {
    }
}
