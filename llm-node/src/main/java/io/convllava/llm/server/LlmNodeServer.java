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
    private final ShardSwitch shards;
    private final ChannelPool downstream;
    private final LlmConfig config;
    private final LlmNodeSettings settings;
    private final ScheduledExecutorService idleSweeper;

    private LlmNodeServer(GrpcServer server, ShardSwitch shards, ChannelPool downstream, LlmConfig config,
                          LlmNodeSettings settings) {
        super(server);
        this.shards = shards;
        this.downstream = downstream;
        this.config = config;
        this.settings = settings;
        String nodeId = settings.nodeId();
        Duration sessionIdle = settings.sessionIdle();
        this.idleSweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idle-sessions-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(1, Math.min(sessionIdle.toMillis() / 4, 30_000));
        idleSweeper.scheduleWithFixedDelay(() -> shards.releaseIdle(sessionIdle), period, period,
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
        ShardSwitch shards = new ShardSwitch(new LlmNodeService(shard, config, downstream, settings));
        // Forward and ForwardBatch only check and queue (the scheduler computes): no thread hand-off for them
        bound.runDirectly(Set.of(LlmNodeGrpc.getForwardMethod().getFullMethodName(),
                LlmNodeGrpc.getForwardBatchMethod().getFullMethodName()));
        return new LlmNodeServer(bound.serve(List.of(shards)), shards, downstream, config, settings);
    }

    /**
     * Make-before-break move to other layers, step one: {@code next} (already loaded) takes every new session from
     * now on, assigned by plan epoch {@code epoch}; the layers served so far keep the sessions they hold. Then
     * publish the new layers and {@link #drainPrevious} the old ones.
     */
    public void switchTo(LlamaShard next, long epoch) {
        shards.switchTo(new LlmNodeService(next, config, downstream, settings.withLayersEpoch(epoch)));
    }

    /**
     * Step two: waits until the layers left by {@link #switchTo} hold no session (at most {@code patience}; steps of
     * sessions still there then fail, and their coordinators move them) and returns that shard for the caller to
     * close; null when the node was not moving.
     */
    public LlamaShard drainPrevious(Duration patience) throws InterruptedException {
        LlmNodeService drained = shards.drainPrevious(patience);
        return drained == null ? null : drained.shard();
    }

    /** The layers new sessions get. */
    public LlamaShard shard() {
        return shards.current().shard();
    }

    /** Sessions this node takes at most; beyond, new ones are refused RESOURCE_EXHAUSTED. */
    public int maxSessions() {
        return settings.maxSessions();
    }

    /** Sessions holding a KV cache on this node. */
    public int activeSessions() {
        return shards.activeSessions();
    }

    /**
     * Frees the KV caches of the sessions driven by {@code owner} (a coordinator's incarnation) that left the
     * cluster; returns how many.
     */
    public int releaseOwnedBy(String owner) {
        return shards.releaseOwnedBy(owner);
    }

    /** Batched steps run so far. */
    public long steps() {
        return shards.steps();
    }

    @Override
    protected void afterStop() {
        idleSweeper.shutdownNow();
        shards.close();
        downstream.close();
    }
}
