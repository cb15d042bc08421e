package io.convllava.common.transport;

/**
 * How large an image and a gRPC message may be, for every server, channel and client of the cluster. The message
 * limit is well above the image limit so that an oversize image still arrives whole and is refused by the request
 * checks with INVALID_ARGUMENT naming it, instead of by gRPC's framing with RESOURCE_EXHAUSTED (which this API
 * uses for overload only).
 */
public final class MessageLimits {
    /** Largest image file a request may carry. */
    public static final int MAX_IMAGE_BYTES = 32 << 20;

    /**
     * Largest inbound message on every server and channel: four images at the limit, and far more than the largest
     * tensor between nodes (a 2048-token float32 prefill boundary is 32 MiB).
     */
    public static final int MAX_MESSAGE_BYTES = 4 * MAX_IMAGE_BYTES;

    private MessageLimits() {
    }

    /**
     * Refuses an image over {@link #MAX_IMAGE_BYTES} with a message naming it: clients call this before sending a
     * file, the coordinator before reading a request's image.
     *
     * @param name what the caller knows the image as: a file name, or a request field such as
     *             {@code messages[0].images[0]}
     * @throws IllegalArgumentException when the image is too large
     */
    public static void checkImage(String name, long bytes) {
        if (bytes > MAX_IMAGE_BYTES) {
            throw new IllegalArgumentException(name + " is " + bytes + " bytes; images are limited to "
                    + MAX_IMAGE_BYTES + " bytes (" + (MAX_IMAGE_BYTES >> 20) + " MiB): resize it or save it as JPEG");
        }
    }
}
