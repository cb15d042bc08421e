package io.convllava.llm.server;

import io.convllava.common.transport.SegmentCodec;

import io.convllava.common.client.ReleaseChain;

import io.convllava.common.config.LlmConfig;
import io.convllava.common.sampling.Sampler;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.SamplingCodec;
import io.convllava.common.transport.TensorCodec;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.ShardInput;
import io.convllava.llm.model.ShardOutput;
import io.convllava.proto.v1.ForwardRequest;
import io.convllava.proto.v1.ForwardResponse;
import io.convllava.proto.v1.LayerRange;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.proto.v1.ReleaseResponse;
import io.convllava.proto.v1.StageAddress;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The LlmNode service around one {@link LlamaShard}. A Forward runs this stage's layers, then either calls the next
 * stage itself (route[0], with route[1:] as its route) and relays its answer, or, on the last stage, samples the
 * token with {@link Sampler}. The caller's deadline and cancellation reach every stage because the downstream call
 * is made in the handler's context. A step that fails or is cancelled releases the session here and on the rest of
 * the route, so no stage keeps the KV cache of a generation that cannot continue.
 */
public final class LlmNodeService extends LlmNodeGrpc.LlmNodeImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(LlmNodeService.class);

    private final LlmConfig config;
    private final ChannelPool downstream;
    private final LlmNodeSettings settings;
    /** Steps run under the read lock; replacing the shard takes the write lock, so it waits for them. */
    private final ReadWriteLock shardLock = new ReentrantReadWriteLock();
    private volatile LlamaShard shard;
    private volatile String stage;
    /** Sessions admitted on this stage, with the System.nanoTime() of their latest step. */
    private final Map<String, Long> admitted = new ConcurrentHashMap<>();

    /** @param downstream channels to later stages; the caller owns and closes it */
    public LlmNodeService(LlamaShard shard, LlmConfig config, ChannelPool downstream, LlmNodeSettings settings) {
        this.shard = shard;
        this.config = config;
        this.downstream = downstream;
        this.settings = settings;
        this.stage = stageName(settings, shard);
    }

    private static String stageName(LlmNodeSettings settings, LlamaShard shard) {
        return "llm node " + settings.nodeId() + " [" + shard.start() + ", " + shard.end() + ")";
    }

    /**
     * Serves {@code next} (other layers, after a new shard plan) from now on, once the steps in progress are done.
     * The sessions of the old shard are dropped: their next step fails and the caller starts over. Returns the old
     * shard for the caller to close.
     */
    public LlamaShard replaceShard(LlamaShard next) {
        shardLock.writeLock().lock();
        try {
            LlamaShard old = shard;
            for (String session : admitted.keySet()) {
                old.release(session);
            }
            admitted.clear();
            shard = next;
            stage = stageName(settings, next);
            return old;
        } finally {
            shardLock.writeLock().unlock();
        }
    }

    @Override
    public void forward(ForwardRequest request, StreamObserver<ForwardResponse> response) {
        // with a cancel handler, answering a call the caller gave up on is a no-op instead of an exception
        ((ServerCallStreamObserver<ForwardResponse>) response).setOnCancelHandler(() -> { });
        String session = request.getSessionId();
        shardLock.readLock().lock();
        try {
            ForwardResponse answer = forward(request);
            response.onNext(answer);
            response.onCompleted();
        } catch (RuntimeException e) {
            Status status = statusOf(e);
            if (status.getCode() == Status.Code.INTERNAL) {
                LOG.error("{}: session {} step {} failed", stage, session, request.getStep(), e);
            }
            release(session);
            if (!handledDownstream(e)) {
                ReleaseChain.release(downstream, session, request.getRouteList());
            }
            response.onError(status.asRuntimeException());
        } finally {
            shardLock.readLock().unlock();
        }
    }

    private ForwardResponse forward(ForwardRequest request) {
        String session = request.getSessionId();
        checkRouting(request);
        ShardInput input = input(request);
        SamplingParams sampling = SamplingCodec.decode(request.getSampling());
        admit(session);
        ShardOutput output = shard.forward(session, input);
        if (Context.current().isCancelled()) {
            throw Status.CANCELLED.withDescription(stage + ": the caller cancelled").asRuntimeException();
        }
        if (shard.isLast()) {
            float[] logits = output.logits().data();
            ForwardResponse.Builder answer = ForwardResponse.newBuilder()
                    .setToken(Sampler.sample(logits, sampling, request.getStep()))
                    .setSessionLength(shard.sessionLength(session));
            if (request.getReturnLogits()) {
                answer.setLogits(TensorCodec.encode(output.logits()));
            }
            return answer.build();
        }
        return callNext(request, output.hidden());
    }

    /** Hands this stage's output to route[0], with the rest of the route, and relays its answer. */
    private ForwardResponse callNext(ForwardRequest request, HostTensor hidden) { // hidden [T, H]
        List<StageAddress> route = request.getRouteList();
        StageAddress next = route.get(0);
        ForwardRequest.Builder onward = request.toBuilder()
                .setHidden(TensorCodec.encode(hidden))
                .clearRoute()
                .addAllRoute(route.subList(1, route.size()));
        if (next.hasLayers()) {
            onward.setExpectedLayers(next.getLayers());
        } else {
            onward.clearExpectedLayers();
        }
        try {
            return Channels.withDeadline(LlmNodeGrpc.newBlockingStub(downstream.get(next.getAddress())),
                    downstream.options()).forward(onward.build());
        } catch (StatusRuntimeException e) {
            throw new DownstreamFailure(next, e);
        }
    }

    @Override
    public void release(ReleaseRequest request, StreamObserver<ReleaseResponse> response) {
        boolean held;
        shardLock.readLock().lock();
        try {
            held = release(request.getSessionId());
        } finally {
            shardLock.readLock().unlock();
        }
        int later = ReleaseChain.release(downstream, request.getSessionId(), request.getRouteList());
        response.onNext(ReleaseResponse.newBuilder().setReleasedStages(later + (held ? 1 : 0)).build());
        response.onCompleted();
    }

    /** Sessions holding a KV cache on this stage. */
    public int activeSessions() {
        return shard.activeSessions();
    }

    private boolean release(String session) {
        boolean held = shard.sessionLength(session) > 0;
        shard.release(session);
        admitted.remove(session);
        return held;
    }

    private void checkRouting(ForwardRequest request) {
        if (request.getSessionId().isEmpty()) {
            throw invalid("ForwardRequest.session_id is empty");
        }
        long epoch = settings.planEpoch().getAsLong();
        if (request.getPlanEpoch() != 0 && epoch != 0 && request.getPlanEpoch() != epoch) {
            throw Status.FAILED_PRECONDITION.withDescription(stage + ": request routed by plan epoch "
                    + request.getPlanEpoch() + ", this node serves epoch " + epoch).asRuntimeException();
        }
        if (request.hasExpectedLayers()) {
            LayerRange expected = request.getExpectedLayers();
            if (expected.getStart() != shard.start() || expected.getEnd() != shard.end()) {
                throw Status.FAILED_PRECONDITION.withDescription(stage + ": the caller expected layers ["
                        + expected.getStart() + ", " + expected.getEnd() + ")").asRuntimeException();
            }
        }
        List<StageAddress> route = request.getRouteList();
        if (shard.isLast() && !route.isEmpty()) {
            throw invalid("ForwardRequest.route: this stage holds the last layer, but the route continues to "
                    + route.get(0).getNodeId());
        }
        if (!shard.isLast() && route.isEmpty()) {
            throw invalid("ForwardRequest.route is empty, but layers " + shard.end() + ".."
                    + (config.numHiddenLayers() - 1) + " are still to run");
        }
        if (!route.isEmpty() && route.get(0).hasLayers() && route.get(0).getLayers().getStart() != shard.end()) {
            throw invalid("ForwardRequest.route[0]: node " + route.get(0).getNodeId() + " starts at layer "
                    + route.get(0).getLayers().getStart() + ", this stage ends at " + shard.end());
        }
        if (request.hasPastLength() && request.getPastLength() != shard.sessionLength(request.getSessionId())) {
            throw Status.FAILED_PRECONDITION.withDescription(stage + ": session " + request.getSessionId() + " has "
                    + shard.sessionLength(request.getSessionId()) + " positions cached, the caller expects "
                    + request.getPastLength()).asRuntimeException();
        }
    }

    private ShardInput input(ForwardRequest request) {
        switch (request.getInputCase()) {
            case SEGMENTS -> {
                if (!shard.isFirst()) {
                    throw invalid("ForwardRequest.segments: only the first stage takes segments; this stage "
                            + "starts at layer " + shard.start() + " and takes a hidden state");
                }
                return new ShardInput.Segments(SegmentCodec.decode(request.getSegments(), config.vocabSize(),
                        config.hiddenSize()));
            }
            case HIDDEN -> {
                if (shard.isFirst()) {
                    throw invalid("ForwardRequest.hidden: the first stage takes segments, not a hidden state");
                }
                HostTensor hidden = TensorCodec.decode(request.getHidden(), "ForwardRequest.hidden", -1,
                        config.hiddenSize());
                if (hidden.dim(0) == 0) {
                    throw invalid("ForwardRequest.hidden has no positions");
                }
                return new ShardInput.Hidden(hidden);
            }
            default -> throw invalid("ForwardRequest has no input (segments or hidden)");
        }
    }

    /** A session new to this stage takes one of {@code maxSessions} places; every step marks it as in use. */
    private void admit(String session) {
        synchronized (admitted) {
            if (!admitted.containsKey(session) && admitted.size() >= settings.maxSessions()) {
                throw Status.RESOURCE_EXHAUSTED.withDescription(stage + ": " + admitted.size()
                        + " sessions already held (max " + settings.maxSessions() + "); retry later")
                        .asRuntimeException();
            }
            admitted.put(session, System.nanoTime());
        }
    }

    /** Releases the sessions whose latest step is older than {@code idle}; returns how many. */
    public int releaseIdle(Duration idle) {
        long now = System.nanoTime();
        int released = 0;
        shardLock.readLock().lock();
        try {
            for (Map.Entry<String, Long> e : admitted.entrySet()) {
                if (now - e.getValue() > idle.toNanos()) {
                    LOG.warn("{}: session {} had no step for over {} s; releasing its KV cache", stage, e.getKey(),
                            idle.toSeconds());
                    release(e.getKey());
                    released++;
                }
            }
        } finally {
            shardLock.readLock().unlock();
        }
        return released;
    }

    private StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(stage + ": " + message).asRuntimeException();
    }

    private Status statusOf(RuntimeException e) {
        if (e instanceof DownstreamFailure d) {
            return d.status();
        }
        if (e instanceof StatusRuntimeException s) {
            return s.getStatus();
        }
        if (e instanceof IllegalArgumentException) {
            return Status.INVALID_ARGUMENT.withDescription(stage + ": " + e.getMessage());
        }
        return Status.INTERNAL.withDescription(stage + ": " + e).withCause(e);
    }

    /**
     * A downstream stage that answered with an error has already released the session there and behind it; one
     * that could not be reached or did not answer in time has not.
     */
    private static boolean handledDownstream(RuntimeException e) {
        if (!(e instanceof DownstreamFailure d)) {
            return false;
        }
        Status.Code code = d.status().getCode();
        return code != Status.Code.UNAVAILABLE && code != Status.Code.DEADLINE_EXCEEDED
                && code != Status.Code.CANCELLED && code != Status.Code.UNKNOWN;
    }

    /** The next stage's error, relayed with its status. */
    private static final class DownstreamFailure extends RuntimeException {
        private final transient Status status;

        DownstreamFailure(StageAddress next, StatusRuntimeException cause) {
            super("stage " + next.getNodeId() + " failed", cause, false, false);
            this.status = cause.getStatus();
        }

        Status status() {
            return status;
        }
    }
}
