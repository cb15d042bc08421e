package io.convllava.coordinator.generate;

import io.convllava.common.pipeline.DecoderPipeline;
import io.grpc.StatusRuntimeException;

/** Where a generation's session goes when a call to its pipeline fails: the coordinator's routing. */
public interface Failover {

    /**
     * Another pipeline to rebuild the session on after {@code failure} on {@code failed}.
     *
     * @throws StatusRuntimeException {@code failure} itself when moving cannot help (the request's own fault, its
     *                                deadline or cancellation, too many moves), or UNAVAILABLE naming the layers no
     *                                live node holds when no pipeline forms before the request's deadline
     */
    DecoderPipeline replace(DecoderPipeline failed, StatusRuntimeException failure);
}
