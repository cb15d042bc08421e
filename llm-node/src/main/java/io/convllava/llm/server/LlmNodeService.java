package io.convllava.llm.server;

import io.convllava.common.client.ReleaseChain;
import io.convllava.common.client.SessionOwner;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.transport.PeerLoss;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.RequestIds;
import io.convllava.common.transport.SamplingCodec;
import io.convllava.common.transport.SegmentCodec;
import io.convllava.common.transport.TensorCodec;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.LogitsRow;
import io.convllava.llm.model.ShardInput;
import io.convllava.llm.schedule.StepMetrics;
import io.convllava.llm.schedule.StepJob;
import io.convllava.llm.schedule.StepScheduler;
import io.convllava.proto.v1.ForwardBatchRequest;
import io.convllava.proto.v1.ForwardBatchResponse;
import io.convllava.proto.v1.ForwardRequest;
import io.convllava.proto.v1.ForwardResponse;
import io.convllava.proto.v1.ForwardResult;
import io.convllava.proto.v1.LayerRange;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.proto.v1.ReleaseResponse;
import io.convllava.proto.v1.StageAddress;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The LlmNode service around one {@link LlamaShard}, driven by a {@link StepScheduler} (continuous batching). A
 * Forward (or each item of a ForwardBatch) is checked and queued; no thread waits for it. When its step is done, the
 * last stage samples the token ({@link LogitsRow#pick}) and answers; other stages hand the output of everything that
 * finished in the same step to the next stage as one ForwardBatch per next node, and answer each caller when its
 * item's result comes back. So stage k runs its next step while stage k + 1 works on the previous one. A step that
 * fails or is cancelled releases the session here and on the rest of the route, so no stage keeps the KV cache of a
 * generation that cannot continue.
 */
public final class LlmNodeService extends LlmNodeGrpc.LlmNodeImplBase implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LlmNodeService.class);
    /** Positions a session that does not say how far it may grow reserves beyond its input. */
    private static final int DEFAULT_NEW_POSITIONS = 256;
    private static final int RELEASE_THREADS = 8;
    private static final int RELEASE_QUEUE = 4096;

    private final LlmConfig config;
    private final ChannelPool downstream;
    private final LlmNodeSettings settings;
    private final StepScheduler<ForwardCall> scheduler;
    /** Release calls down the route block; they run here, never on the scheduler or completion threads. */
    private final ExecutorService releases;
    private final String stage;

    /** @param downstream channels to later stages; the caller owns and closes it */
    public LlmNodeService(LlamaShard shard, LlmConfig config, ChannelPool downstream, LlmNodeSettings settings) {
        this.config = config;
        this.downstream = downstream;
        this.settings = settings;
        this.stage = stageName(settings, shard);
        this.scheduler = new StepScheduler<>("llm-node-" + settings.nodeId(), shard, settings.limits(),
                this::finished).start();
        // bounded: releases are best effort (a session left behind is freed once idle), so a flood is shed, logged
        ThreadPoolExecutor releases = new ThreadPoolExecutor(RELEASE_THREADS, RELEASE_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(RELEASE_QUEUE), r -> {
                    Thread t = new Thread(r, "llm-node-" + settings.nodeId() + "-releases");
                    t.setDaemon(true);
                    return t;
                }, (task, pool) -> LOG.warn("{}: {} releases waiting; dropping one (the idle sweep frees it)",
                        stage, RELEASE_QUEUE));
        releases.allowCoreThreadTimeOut(true);
        this.releases = releases;
    }

    private static String stageName(LlmNodeSettings settings, LlamaShard shard) {
        return "llm node " + settings.nodeId() + " [" + shard.start() + ", " + shard.end() + ")";
    }

    /** The layers this service runs. */
    public LlamaShard shard() {
        return scheduler.shard();
    }

    /** Whether {@code sessionId} has a KV cache here. */
    public boolean holds(String sessionId) {
        return scheduler.shard().sessionLength(sessionId) > 0;
    }

    @Override
    public void forward(ForwardRequest request, StreamObserver<ForwardResponse> response) {
        ignoreCancellation(response);
        submit(request, new Reply() {
            @Override
            public void answer(ForwardResponse answer) {
                response.onNext(answer);
                response.onCompleted();
            }

            @Override
            public void error(Status status) {
                response.onError(status.asRuntimeException());
            }
        });
    }

    @Override
    public void forwardBatch(ForwardBatchRequest request, StreamObserver<ForwardBatchResponse> response) {
        ignoreCancellation(response);
        int items = request.getItemsCount();
        ForwardResult[] results = new ForwardResult[items];
        AtomicInteger remaining = new AtomicInteger(items);
        if (items == 0) {
            response.onNext(ForwardBatchResponse.getDefaultInstance());
            response.onCompleted();
            return;
        }
        scheduler.submitTogether(() -> {
            for (int i = 0; i < items; i++) {
                submitItem(request, i, results, remaining, response);
            }
        });
    }

    /** With a cancel handler, answering a call the caller gave up on is a no-op instead of an exception. */
    static void ignoreCancellation(StreamObserver<?> response) {
        if (response instanceof ServerCallStreamObserver<?> call) {
            call.setOnCancelHandler(() -> { });
        }
    }

    /** Item {@code index} of a ForwardBatch; the batch is answered once every item has its result. */
    private void submitItem(ForwardBatchRequest request, int index, ForwardResult[] results, AtomicInteger remaining,
                            StreamObserver<ForwardBatchResponse> response) {
        submit(request.getItems(index), new Reply() {
            @Override
            public void answer(ForwardResponse answer) {
                done(ForwardResult.newBuilder().setResponse(answer).build());
            }

            @Override
            public void error(Status status) {
                done(ForwardResult.newBuilder().setStatusCode(status.getCode().value())
                        .setStatusMessage(status.getDescription() == null ? "" : status.getDescription()).build());
            }

            private void done(ForwardResult result) {
                results[index] = result;
                if (remaining.decrementAndGet() == 0) {
                    response.onNext(ForwardBatchResponse.newBuilder().addAllResults(List.of(results)).build());
                    response.onCompleted();
                }
            }
        });
    }

    /**
     * Checks the step and queues it; a step that cannot be taken is answered as soon as its session is released.
     * Never blocks: Forward and ForwardBatch run on the transport thread.
     */
    private void submit(ForwardRequest request, Reply reply) {
        String session = request.getSessionId();
        LlamaShard shard = scheduler.shard();
        ForwardCall call;
        try {
            checkRouting(request, shard);
            ShardInput input = input(request, shard);
            SamplingParams sampling = SamplingCodec.decode(request.getSampling());
            shard.check(session, input);
            int past = request.hasReusePrefix() ? request.getReusePrefix().getLength() : shard.sessionLength(session);
            int reserve = request.getReservePositions() > 0 ? request.getReservePositions()
                    : Math.min(config.maxPositionEmbeddings(), past + input.length() + DEFAULT_NEW_POSITIONS);
            if (request.hasReusePrefix()) {
                checkReuse(request, shard);
            }
            call = new ForwardCall(request, input, sampling, reply, reserve, Context.current());
            if (past == 0 || request.hasReusePrefix()) {
                logOpening(request, shard, input.length(), past);
            }
        } catch (RuntimeException e) {
            Status status = statusOf(e);
            if (status.getCode() == Status.Code.INTERNAL) {
                LOG.error("{}: session {} step {} failed", stage, session, request.getStep(), e);
            }
            // this may run on a transport thread: answer once the scheduler has released, without waiting here
            List<StageAddress> route = request.getRouteList();
            scheduler.release(session).whenComplete((held, failure) -> {
                if (!route.isEmpty()) {
                    releases.execute(() -> ReleaseChain.release(downstream, session, route));
                }
                reply.error(status);
            });
            return;
        }
        try {
            scheduler.submit(call);
        } catch (StatusRuntimeException e) {
            reply.error(e.getStatus()); // a step already in progress, or shutting down: nothing to release
        }
    }

    /** One line per session and stage, naming the client request it serves (canaries at DEBUG). */
    private void logOpening(ForwardRequest request, LlamaShard shard, int positions, int reused) {
        String requestId = request.getRequestId();
        boolean canary = requestId.startsWith(RequestIds.CANARY_PREFIX);
        if (canary ? !LOG.isDebugEnabled() : !LOG.isInfoEnabled()) {
            return;
        }
        (canary ? LOG.atDebug() : LOG.atInfo()).addKeyValue(RequestIds.LOG_KEY, requestId)
                .log("{}: request {} opens session {} on layers {}-{}: {} position(s){}", stage,
                        requestId.isEmpty() ? "(no id)" : requestId, request.getSessionId(), shard.start(),
                        shard.end(), positions, reused > 0 ? " after " + reused + " reused" : "");
    }

    /** A session continuing from a kept cache must be new here, and the cache must hold the positions it names. */
    private void checkReuse(ForwardRequest request, LlamaShard shard) {
        String key = request.getReusePrefix().getKey();
        int length = request.getReusePrefix().getLength();
        if (key.isEmpty() || length <= 0) {
            throw invalid("ForwardRequest.reuse_prefix needs a key and a positive length, got '" + key + "', " + length);
        }
        if (shard.sessionLength(request.getSessionId()) > 0) {
            throw invalid("ForwardRequest.reuse_prefix: session " + request.getSessionId() + " already exists here");
        }
        int kept = shard.keptLength(key);
        StepMetrics.prefixReuse(kept >= length);
        if (kept < length) {
            throw Status.FAILED_PRECONDITION.withDescription(stage + ": " + (kept < 0
                    ? "no cache is kept under prefix key " + key + " (evicted, or never kept here)"
                    : "the cache kept under prefix key " + key + " holds " + kept + " positions, not " + length)
                    + ": run the whole prompt").asRuntimeException();
        }
    }

    /** On the scheduler thread, so without blocking: the jobs that finished in one step. */
    private void finished(List<ForwardCall> calls) {
        LlamaShard shard = scheduler.shard();
        if (shard.isLast()) {
            for (ForwardCall call : calls) {
                answerLast(call, shard);
            }
            return;
        }
        Map<String, List<ForwardCall>> byNext = new LinkedHashMap<>();
        for (ForwardCall call : calls) {
            byNext.computeIfAbsent(call.request.getRoute(0).getAddress(), a -> new ArrayList<>()).add(call);
        }
        byNext.values().forEach(this::sendOnward);
    }

    private void answerLast(ForwardCall call, LlamaShard shard) {
        try {
            LogitsRow logits = call.logits();
            ForwardResponse.Builder answer = ForwardResponse.newBuilder()
                    .setToken(logits.pick(call.sampling, call.request.getStep()))
                    .setSessionLength(shard.sessionLength(call.sessionId()));
            if (call.request.getReturnLogits()) {
                answer.setLogits(TensorCodec.encode(logits.toTensor()));
            }
            call.reply.answer(answer.build());
        } catch (RuntimeException e) {
            LOG.error("{}: session {} step {}: answering failed", stage, call.sessionId(), call.request.getStep(), e);
            scheduler.release(call.sessionId()); // runs after this step: the scheduler thread must not wait for it
            call.reply.error(statusOf(e));
        }
    }

    /** Hands the output of calls bound for the same next stage to it as one ForwardBatch, and relays each answer. */
    private void sendOnward(List<ForwardCall> calls) {
        StageAddress next = calls.get(0).request.getRoute(0);
        ForwardBatchRequest.Builder batch = ForwardBatchRequest.newBuilder();
        Deadline deadline = null;
        for (ForwardCall call : calls) {
            batch.addItems(onward(call));
            Deadline d = call.context.getDeadline();
            deadline = d == null ? deadline : deadline == null || deadline.isBefore(d) ? d : deadline;
        }
        try {
            LlmNodeGrpc.LlmNodeStub stub = LlmNodeGrpc.newStub(downstream.get(next.getAddress()));
            stub = deadline != null ? stub.withDeadline(deadline)
                    : stub.withDeadlineAfter(downstream.options().callDeadline().toMillis(), TimeUnit.MILLISECONDS);
            stub.forwardBatch(batch.build(), new StreamObserver<>() {
                @Override
                public void onNext(ForwardBatchResponse response) {
                    for (int i = 0; i < calls.size(); i++) {
                        ForwardCall call = calls.get(i);
                        if (i >= response.getResultsCount()) {
                            Status status = Status.INTERNAL.withDescription(
                                    "stage " + next.getNodeId() + " returned no result for this step");
                            releases.execute(() -> failOnward(call, next, status)); // failOnward waits
                            continue;
                        }
                        ForwardResult result = response.getResults(i);
                        if (result.getStatusCode() == 0) {
                            call.reply.answer(result.getResponse());
                        } else {
                            Status status = Status.fromCodeValue(result.getStatusCode())
                                    .withDescription(result.getStatusMessage());
                            releases.execute(() -> failOnward(call, next, status)); // failOnward waits
                        }
                    }
                }

                @Override
                public void onError(Throwable t) {
                    Status status = PeerLoss.asUnavailable(Status.fromThrowable(t),
                            stage + ": lost stage " + next.getNodeId() + " at " + next.getAddress());
                    releases.execute(() -> calls.forEach(call -> failOnward(call, next, status)));
                }

                @Override
                public void onCompleted() {
                }
            });
        } catch (RuntimeException e) {
            Status status = Status.UNAVAILABLE.withDescription(stage + ": cannot reach stage " + next.getNodeId()
                    + " at " + next.getAddress() + ": " + e.getMessage());
            releases.execute(() -> calls.forEach(call -> failOnward(call, next, status))); // failOnward waits
        }
    }

    /** This stage's output as the next stage's request, with the rest of the route. */
    private static ForwardRequest onward(ForwardCall call) {
        List<StageAddress> route = call.request.getRouteList();
        StageAddress next = route.get(0);
        ForwardRequest.Builder onward = call.request.toBuilder()
                .setHidden(TensorCodec.encode(call.hidden()))
                .clearRoute()
                .addAllRoute(route.subList(1, route.size()));
        if (next.hasLayers()) {
            onward.setExpectedLayers(next.getLayers());
        } else {
            onward.clearExpectedLayers();
        }
        return onward.build();
    }

    /** A later stage failed the step: release here (and behind, unless that stage did) and relay its status. */
    private void failOnward(ForwardCall call, StageAddress next, Status status) {
        DownstreamFailure failure = new DownstreamFailure(next, status);
        releaseEverywhere(call.sessionId(), call.request.getRouteList(), !handledDownstream(failure));
        call.reply.error(status);
    }

    /**
     * Releases the session here (waiting at most for the step in progress), and on {@code route} too when
     * {@code downstreamToo}, off the calling thread.
     */
    private void releaseEverywhere(String session, List<StageAddress> route, boolean downstreamToo) {
        if (session.isEmpty()) {
            return;
        }
        try {
            scheduler.release(session).join();
        } catch (RuntimeException e) {
            // shutting down: nothing is held any more
        }
        if (downstreamToo && !route.isEmpty()) {
            releases.execute(() -> ReleaseChain.release(downstream, session, route));
        }
    }

    @Override
    public void release(ReleaseRequest request, StreamObserver<ReleaseResponse> response) {
        boolean held;
        try {
            held = scheduler.release(request.getSessionId(), request.getKeepAs()).join();
        } catch (RuntimeException e) {
            held = false; // closed: nothing is held any more
        }
        int later = ReleaseChain.release(downstream, request.getSessionId(), request.getRouteList(),
                request.getKeepAs());
        response.onNext(ReleaseResponse.newBuilder().setReleasedStages(later + (held ? 1 : 0)).build());
        response.onCompleted();
    }

    /** Sessions holding a KV cache on this stage. */
    public int activeSessions() {
        return scheduler.shard().activeSessions();
    }

    /** Batched steps run so far (each serves every session that had work at the time). */
    public long steps() {
        return scheduler.steps();
    }

    /** Releases the sessions whose latest step is older than {@code idle}; returns how many. */
    public int releaseIdle(Duration idle) {
        try {
            return scheduler.releaseIdle(idle).join();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Releases the sessions that {@code owner} drives ({@link SessionOwner}), between their steps; returns how many. */
    public int releaseOwnedBy(String owner) {
        try {
            return scheduler.releaseWhere(id -> SessionOwner.of(id).filter(owner::equals).isPresent(),
                    "its owner " + owner + " left").join();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Stops scheduling: queued steps fail with UNAVAILABLE. The shard stays open (its owner closes it). */
    @Override
    public void close() {
        scheduler.close();
        releases.shutdown();
    }

    /** Where one step's answer goes: a unary Forward's caller, or one item of a ForwardBatch. */
    private interface Reply {
        void answer(ForwardResponse response);

        void error(Status status);
    }

    /** One session's step on this stage. */
    private final class ForwardCall extends StepJob {
        final ForwardRequest request;
        final SamplingParams sampling;
        final Reply reply;
        final Context context;

        ForwardCall(ForwardRequest request, ShardInput input, SamplingParams sampling, Reply reply, int reserve,
                    Context context) {
            super(request.getSessionId(), input, reserve, context::isCancelled,
                    request.hasReusePrefix() ? request.getReusePrefix().getKey() : null,
                    request.getReusePrefix().getLength());
            this.request = request;
            this.sampling = sampling;
            this.reply = reply;
            this.context = context;
        }

        @Override
        protected void failed(Status status) {
            if (status.getCode() == Status.Code.INTERNAL) {
                LOG.error("{}: session {} step {} failed: {}", stage, sessionId(), request.getStep(), status);
            }
            // the scheduler released the session here; the later stages may hold it from earlier steps
            if (!request.getRouteList().isEmpty()) {
                releases.execute(() -> ReleaseChain.release(downstream, sessionId(), request.getRouteList()));
            }
            reply.error(status);
        }
    }

    private void checkRouting(ForwardRequest request, LlamaShard shard) {
        if (request.getSessionId().isEmpty()) {
            throw invalid("ForwardRequest.session_id is empty");
        }
        if (request.getPlanEpoch() != 0 && request.getPlanEpoch() < settings.layersEpoch()) {
            throw Status.FAILED_PRECONDITION.withDescription(stage + ": request routed by plan epoch "
                    + request.getPlanEpoch() + ", but plan epoch " + settings.layersEpoch()
                    + " gave this node its layers: route by a newer plan").asRuntimeException();
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
        if (request.getReservePositions() < 0) {
            throw invalid("ForwardRequest.reserve_positions is negative: " + request.getReservePositions());
        }
    }

    private ShardInput input(ForwardRequest request, LlamaShard shard) {
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

        DownstreamFailure(StageAddress next, Status status) {
            super("stage " + next.getNodeId() + " failed", status.getCause(), false, false);
            this.status = status;
        }

        Status status() {
            return status;
        }
    }
}
