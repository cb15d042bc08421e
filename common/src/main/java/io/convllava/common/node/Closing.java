package io.convllava.common.node;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Shutting a node down: every part gets closed even when an earlier one fails. */
public final class Closing {
    private static final Logger LOG = LoggerFactory.getLogger(Closing.class);

    private Closing() {
    }

    /** Closes each part that is not null, logging (not throwing) what fails. */
    public static void inOrder(AutoCloseable... parts) {
        for (AutoCloseable part : parts) {
            if (part == null) {
                continue;
            }
            try {
                part.close();
            } catch (Exception e) {
                LOG.warn("closing {} failed: {}", part.getClass().getSimpleName(), e.toString());
            }
        }
    }
}
