package io.convllava.common.transport;

import io.grpc.Status;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * Whether a call failed because its peer went away (process killed, host cut off, connection reset) rather than for
 * what it asked. grpc-java reports most such failures as UNAVAILABLE, but a connection that closes while a call is
 * being written surfaces as UNKNOWN "channel closed" (a {@link ClosedChannelException}).
 */
public final class PeerLoss {
    private PeerLoss() {
    }

    public static boolean is(Status status) {
        if (status.getCode() == Status.Code.UNAVAILABLE) {
            return true;
        }
        return status.getCode() == Status.Code.UNKNOWN && (status.getCause() instanceof IOException
                || "channel closed".equals(status.getDescription()));
    }

    /** {@code status} as UNAVAILABLE when it is a peer loss, so that callers further up know to retry elsewhere. */
    public static Status asUnavailable(Status status, String context) {
        if (status.getCode() == Status.Code.UNKNOWN && is(status)) {
            return Status.UNAVAILABLE.withDescription(context + ": " + status.getDescription())
                    .withCause(status.getCause());
        }
        return status;
    }
}
