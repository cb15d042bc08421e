package io.convllava.vision.server;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Bounds the images a vision node has taken on (decoding, waiting for the tower, encoding): a request that would
 * exceed the bound is refused with RESOURCE_EXHAUSTED at once instead of queueing without limit. An idle node
 * takes any request, so one larger than the bound still runs (alone).
 */
final class ImageAdmission {
    private final int maxImages;
    private int queued;

    ImageAdmission(int maxImages) {
        if (maxImages <= 0) {
            throw new IllegalArgumentException("maxImages must be > 0, got " + maxImages);
        }
        this.maxImages = maxImages;
    }

    /**
     * Takes {@code images} until {@link #release}d.
     *
     * @throws StatusRuntimeException RESOURCE_EXHAUSTED when the node is busy with other images
     */
    synchronized void admit(int images) {
        if (queued > 0 && queued + images > maxImages) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("vision node busy: " + queued + " image(s) in progress, "
                    + images + " more would exceed its limit of " + maxImages + "; retry later, or add vision nodes")
                    .asRuntimeException();
        }
        queued += images;
    }

    synchronized void release(int images) {
        queued -= images;
    }

    /** Images taken on now. */
    synchronized int queued() {
        return queued;
    }
}
