package io.convllava.common.client;

import io.convllava.common.transport.ChannelPool;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.proto.v1.StageAddress;
import io.grpc.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sends Release down a chain of stages: to the first, with the rest as its route. A stage that cannot be reached
 * is skipped (the next one gets the remaining route), so one dead node does not strand the KV caches behind it.
 */
public final class ReleaseChain {
    private static final Logger LOG = LoggerFactory.getLogger(ReleaseChain.class);
    private static final long RELEASE_DEADLINE_MS = 10_000;

    private ReleaseChain() {
    }

    /**
     * Releases {@code sessionId} on every reachable stage of {@code stages}, outside the caller's (possibly
     * cancelled) context; never throws.
     *
     * @return stages that held the session
     */
    public static int release(ChannelPool channels, String sessionId, List<StageAddress> stages) {
        return release(channels, sessionId, stages, "");
    }

    /**
     * As {@link #release(ChannelPool, String, List)}; a non-empty {@code keepAs} asks every stage to keep the cache
     * under that key for a later session to continue from (ReleaseRequest.keep_as).
     */
    public static int release(ChannelPool channels, String sessionId, List<StageAddress> stages, String keepAs) {
        Context detached = Context.current().fork();
        Context previous = detached.attach();
        try {
            for (int i = 0; i < stages.size(); i++) {
                StageAddress stage = stages.get(i);
                try {
                    long deadline = Math.min(RELEASE_DEADLINE_MS, channels.options().callDeadline().toMillis());
                    return LlmNodeGrpc.newBlockingStub(channels.get(stage.getAddress()))
                            .withDeadlineAfter(deadline, TimeUnit.MILLISECONDS)
                            .release(ReleaseRequest.newBuilder().setSessionId(sessionId).setKeepAs(keepAs)
                                    .addAllRoute(stages.subList(i + 1, stages.size())).build())
                            .getReleasedStages();
                } catch (RuntimeException e) {
                    // a dead stage, or an address that is no address at all (a caller's route is not trusted)
                    LOG.warn("release of session {} on {} ({}) failed, skipping it: {}", sessionId,
                            stage.getNodeId(), stage.getAddress(), e.toString());
                }
            }
            return 0;
        } finally {
            detached.detach(previous);
        }
    }
}
