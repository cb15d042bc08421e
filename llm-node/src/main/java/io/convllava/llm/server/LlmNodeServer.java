package io.convllava.llm.server;

import io.convllava.common.config.LlmConfig;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.GrpcServer;
import io.convllava.common.transport.NodeServer;
import io.convllava.common.transport.TransportOptions;
import io.convllava.llm.model.LlamaShard;
import io.convllava.proto.v1.LlmNodeGrpc;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A running llm node: {@link LlmNodeService} over one shard on a Netty server (plus gRPC health), with the channels
 * it uses to call later stages.
 */
public final class LlmNodeServer extends NodeServer {
    private final LlmNodeService service;
    private final ChannelPool downstream;
    private final ScheduledExecutorService idleSweeper;

    private LlmNodeServer(GrpcServer server, LlmNodeService service, ChannelPool downstream, String nodeId,
                          Duration sessionIdle) {
        super(server);
        this.service = service;
        this.downstream = downstream;
        this.idleSweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idle-sessions-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(1, Math.min(sessionIdle.toMillis() / 4, 30_000));
        idleSweeper.scheduleWithFixedDelay(() -> service.releaseIdle(sessionIdle), period, period,
                TimeUnit.MILLISECONDS);
    }

    /** Serves {@code shard}, which the caller keeps owning (close it after this server). */
    public static LlmNodeServer start(String host, int port, LlamaShard shard, LlmConfig config,
                                      TransportOptions options, LlmNodeSettings settings) throws IOException {
        GrpcServer bound = GrpcServer.bind("llm-node-" + settings.nodeId(), host, port, options);
        try {
            return serve(bound, shard, config, options, settings);
        } catch (RuntimeException e) {
            bound.close();
            throw e;
        }
    }

    /**
     * Serves {@code shard} (which the caller keeps owning) on a server already listening ({@link GrpcServer#bind}),
     * which this node now owns; {@code options} are those of its channels to later stages.
     */
    public static LlmNodeServer serve(GrpcServer bound, LlamaShard shard, LlmConfig config, TransportOptions options,
                                      LlmNodeSettings settings) {
        ChannelPool downstream = new ChannelPool(options, true); // LlmNodeService's callbacks never block
        LlmNodeService service = new LlmNodeService(shard, config, downstream, settings);
        // Forward and ForwardBatch only check and queue (the scheduler computes): no thread hand-off for them
        bound.runDirectly(Set.of(LlmNodeGrpc.getForwardMethod().getFullMethodName(),
                LlmNodeGrpc.getForwardBatchMethod().getFullMethodName()));
        return new LlmNodeServer(bound.serve(List.of(service)), service, downstream, settings.nodeId(),
                settings.sessionIdle());
    }

    /** Serves other layers from now on (see {@link LlmNodeService#replaceShard}); returns the old shard to close. */
    public LlamaShard replaceShard(LlamaShard next) {
        return service.replaceShard(next);
    }

    /** Sessions holding a KV cache on this node. */
    public int activeSessions() {
        return service.activeSessions();
    }

    /** Batched steps run so far. */
    public long steps() {
        return service.steps();
    }

    @Override
    protected void afterStop() {
        idleSweeper.shutdownNow();
        service.close();
        downstream.close();
    }
}
