package io.convllava.vision.model;

import java.util.Locale;

/** An encode whose estimated activation memory alone exceeds the encode memory limit, so it can never run. */
public final class EncodeMemoryLimitException extends RuntimeException {
    EncodeMemoryLimitException(int images, int resolution, long estimateBytes, long limitBytes) {
        super(String.format(Locale.ROOT, "encoding %d image%s at %d px needs an estimated %s of activation memory,"
                        + " more than the encode memory limit of %s: raise the limit (vision-node"
                        + " --encode-memory-limit) or send fewer images at once", images, images == 1 ? "" : "s",
                resolution, size(estimateBytes), size(limitBytes)));
    }

    /** MiB, or GiB from 1 GiB up. */
    private static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
}
