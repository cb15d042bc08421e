package io.convllava.vision.server;

import io.convllava.vision.image.InvalidImageException;

/**
 * Bounds the heap that images being decoded and preprocessed take at once: each image reserves an estimate of what
 * its decode needs (from its header, before any pixel is decoded) and waits while the reservations of the others
 * leave no room; an image that needs more than the whole budget is refused. The preparation threads alone bound only
 * the number of images: on a machine with many cores and a small heap, that many 64-megapixel images at once (about
 * 1 GB each) would exhaust it.
 */
final class DecodeMemory {
    /** Share of the maximum heap the images being prepared may take at once; the rest serves everything else. */
    static final double HEAP_SHARE = 0.5;

    private final long budget;
    private long reserved;
    private long peak;

    DecodeMemory(long budgetBytes) {
        if (budgetBytes <= 0) {
            throw new IllegalArgumentException("the decode memory budget must be > 0 bytes, got " + budgetBytes);
        }
        this.budget = budgetBytes;
    }

    /** {@value #HEAP_SHARE} of this JVM's maximum heap. */
    static DecodeMemory ofHeap() {
        return new DecodeMemory((long) (Runtime.getRuntime().maxMemory() * HEAP_SHARE));
    }

    /**
     * Heap an image of {@code width x height} takes from decoding to model input: the decoder's image (up to 4 bytes
     * a pixel), its RGB copy (3), the padded square (3 per pixel of it) and the float32 [3, R, R] input.
     */
    static long estimate(int width, int height, boolean paddedToSquare, int resolution) {
        long pixels = (long) width * height;
        long side = Math.max(width, height);
        return pixels * 7 + (paddedToSquare ? side * side * 3 : 0) + (long) resolution * resolution * 3 * Float.BYTES;
    }

    /** Reserves {@code bytes}, waiting while others hold too much; close the permit once the image is prepared. */
    synchronized Permit reserve(long bytes) throws InterruptedException {
        if (bytes > budget) {
            throw new InvalidImageException("decoding it takes about " + (bytes >> 20) + " MiB, more than this vision"
                    + " node's image budget of " + (budget >> 20) + " MiB (half its heap): send a smaller image");
        }
        while (reserved + bytes > budget) {
            wait();
        }
        reserved += bytes;
        peak = Math.max(peak, reserved);
        return () -> release(bytes);
    }

    private synchronized void release(long bytes) {
        reserved -= bytes;
        notifyAll();
    }

    /** The most ever reserved at once. */
    synchronized long peak() {
        return peak;
    }

    long budget() {
        return budget;
    }

    /** One image's reservation. */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }
}
