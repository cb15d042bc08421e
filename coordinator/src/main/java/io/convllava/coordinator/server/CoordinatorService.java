package io.convllava.coordinator.server;

import io.convllava.common.cluster.ClusterSnapshot;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.Pipeline;
import io.convllava.common.cluster.PipelineAssembly;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.GenerationResult;
import io.convllava.coordinator.generate.Generator;
import io.convllava.coordinator.generate.RequestLimits;
import io.convllava.coordinator.generate.TokenListener;
import io.convllava.coordinator.prefix.ConversationAffinity;
import io.convllava.coordinator.prefix.PrefixIndexes;
import io.convllava.coordinator.routing.PipelineFailover;
import io.convllava.coordinator.routing.Router;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.Delta;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.LayerRange;
import io.convllava.proto.v1.ListModelsRequest;
import io.convllava.proto.v1.ListModelsResponse;
import io.convllava.proto.v1.NodeStatus;
import io.convllava.common.transport.RequestIds;
import io.convllava.proto.v1.Message;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The public {@code ConvLlava} service. Each Generate call is checked, admitted (bounded concurrency), routed to
 * the least loaded complete llm pipeline (the one that served the conversation before, which keeps its cache, if
 * not much busier) and, when it has images, a vision node, then run by a {@link Generator} built for it, which
 * continues from the longest cache that pipeline keeps for the prompt; tokens stream back as Delta events, then one
 * Final. When a node of the pipeline dies or refuses, the session moves to another pipeline and is replayed there
 * ({@link PipelineFailover}): the stream goes on with the same tokens. A client that cancels or whose deadline passes
 * stops the decoding at the next token, and the generator releases the session's KV cache on every stage.
 */
public final class CoordinatorService extends ConvLlavaGrpc.ConvLlavaImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorService.class);
    private static final long MAX_QUEUE_WAIT_MS = 60_000;
    /** How long an admitted request waits for a pipeline with room before it is refused RESOURCE_EXHAUSTED. */
    private static final long MAX_CLUSTER_WAIT_MS = 10_000;

    private final ServedModel model;
    private final Router router;
    private final AdmissionControl admission;
    private final GenerateRequestReader reader;
    private final TransportOptions transport;
    private final String nodeId;
    private final String incarnation;
    private final PrefixIndexes prefixes; // null: every prompt computed in full
    private final InFlightEncodes encodes = new InFlightEncodes();
    private final EmbeddingCache recentEncodes;
    /** Where a probe's deadline cancels its context (the cancellation does not block). */
    private static final ScheduledExecutorService PROBES = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coordinator-probe-deadlines");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param self          this coordinator as registered: its node id, which status answers carry, and its
     *                      incarnation, which its session ids name
     * @param reusePrefixes whether requests continue from the caches earlier ones kept on their pipeline
     */
    public CoordinatorService(ServedModel model, Router router, AdmissionControl admission, ImageCache images,
                              EmbeddingCache recentEncodes, TransportOptions transport, NodeInfo self,
                              boolean reusePrefixes) {
        this.recentEncodes = recentEncodes;
        this.prefixes = reusePrefixes ? new PrefixIndexes() : null;
        this.model = model;
        this.router = router;
        this.admission = admission;
        this.reader = new GenerateRequestReader(model.id(), images,
                RequestLimits.forContext(model.llm().maxPositionEmbeddings()));
        this.transport = transport;
        this.nodeId = self.nodeId();
        this.incarnation = self.incarnation();
    }

    /**
     * Runs the request under its id (the request's field, else the {@value RequestIds#HEADER_NAME} header, else a new
     * one): the nodes it reaches log it, and so does this coordinator when it ends, with its outcome.
     */
    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateResponse> observer) {
        long received = System.nanoTime();
        ServerCallStreamObserver<GenerateResponse> call = (ServerCallStreamObserver<GenerateResponse>) observer;
        String given = !request.getRequestId().isEmpty() ? RequestIds.sanitize(request.getRequestId())
                : RequestIds.current();
        String requestId = given != null ? given : UUID.randomUUID().toString();
        Context context = RequestIds.with(requestId);
        Context previous = context.attach();
        try (MDC.MDCCloseable logged = MDC.putCloseable(RequestIds.LOG_KEY, requestId)) {
            generate(request, requestId, received, call);
        } finally {
            context.detach(previous);
        }
    }

    private void generate(GenerateRequest request, String requestId, long received,
                          ServerCallStreamObserver<GenerateResponse> call) {
        // with a cancel handler, events sent after a cancel are dropped instead of failing the handler
        call.setOnCancelHandler(() -> LOG.debug("request {} cancelled by the client", requestId));
        Status.Code outcome = Status.Code.OK;
        try {
            GenerationRequest generation = reader.read(request);
            Final last = run(generation, requestId, received, call);
            reader.remember(generation); // its images decoded and encoded: later requests may name them by hash
            call.onNext(GenerateResponse.newBuilder().setFinal(last).build());
            call.onCompleted();
            CoordinatorMetrics.PROMPT.inc(last.getUsage().getPromptTokens());
            CoordinatorMetrics.PROMPT_CACHED.inc(last.getUsage().getCachedPromptTokens());
            LOG.info("request {} done: {} prompt + {} generated tokens, {}, first token after {} ms, {} ms in all",
                    requestId, last.getUsage().getPromptTokens(), last.getUsage().getCompletionTokens(),
                    last.getFinishReason(), Math.round(last.getTimings().getFirstTokenMs()),
                    Math.round(last.getTimings().getTotalMs()));
        } catch (StatusRuntimeException e) {
            outcome = fail(call, e, requestId);
        } catch (IllegalArgumentException e) {
            outcome = fail(call, Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException(),
                    requestId);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = fail(call, Status.CANCELLED.withDescription("the coordinator is shutting down")
                    .asRuntimeException(), requestId);
        } catch (RuntimeException e) {
            LOG.error("request {} failed", requestId, e);
            outcome = fail(call, Status.INTERNAL.withDescription(e.toString()).withCause(e).asRuntimeException(),
                    requestId);
        } finally {
            CoordinatorMetrics.REQUESTS.labelValues(outcome.name()).inc();
            CoordinatorMetrics.DURATION.observe((System.nanoTime() - received) / 1e9);
        }
    }

    /** Admits, routes and runs one generation, streaming its tokens; returns the Final event. */
    private Final run(GenerationRequest generation, String requestId, long received,
                      ServerCallStreamObserver<GenerateResponse> call) throws InterruptedException {
        CoordinatorMetrics.QUEUED.inc();
        AdmissionControl.Permit admitted;
        try {
            admitted = admission.admit(maxQueueWaitMs());
        } finally {
            CoordinatorMetrics.QUEUED.dec();
        }
        CoordinatorMetrics.ACTIVE.inc();
        try (AdmissionControl.Permit permit = admitted;
             PipelineFailover route = route(generation)) {
            double queueMs = ms(System.nanoTime() - received);
            Generator generator = new Generator(model.tokenizer(),
                    new VisionNodeImageEncoder(router, transport, model.tokensPerImage(), requestId, encodes,
                            recentEncodes),
                    route.pipeline(), model.maxPromptTokens(), model.llm().maxPositionEmbeddings(),
                    prefixes == null ? null : prefixes.of(route.nodeIds()), route);
            FirstToken first = new FirstToken(received);
            GenerationResult result = generator.generate(generation, streamTo(call, first));
            long end = System.nanoTime();
            double firstTokenMs = ms((first.at == 0 ? end : first.at) - received);
            return FinalMessages.toFinal(result, queueMs, firstTokenMs, ms(end - received));
        } finally {
            CoordinatorMetrics.ACTIVE.dec();
        }
    }

    /**
     * A health probe: the shortest generation (a one-word text prompt, one greedy token) through a pipeline, outside
     * admission control and the metrics of client requests, within {@code timeout}. Throws what the generation threw.
     */
    public void probe(String requestId, Duration timeout) {
        GenerationRequest generation = reader.read(GenerateRequest.newBuilder().setRequestId(requestId)
                .setMaxNewTokens(1).addMessages(Message.newBuilder().setRole(Message.Role.USER).setText("Hello"))
                .build());
        Context.CancellableContext context = RequestIds.with(requestId)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS, PROBES);
        try {
            context.call(() -> {
                try (PipelineFailover route = PipelineFailover.start(router, null, incarnation)) {
                    new Generator(model.tokenizer(), null, route.pipeline(), model.maxPromptTokens(),
                            model.llm().maxPositionEmbeddings(), null, route).generate(generation, (id, text) -> {
                            });
                }
                return null;
            });
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            context.cancel(null);
        }
    }

    @Override
    public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> observer) {
        observer.onNext(ListModelsResponse.newBuilder().addModels(model.info()).build());
        observer.onCompleted();
    }

    @Override
    public void getClusterStatus(GetClusterStatusRequest request, StreamObserver<ClusterStatus> observer) {
        ClusterStatus.Builder status = clusterStatus(router.snapshot(), router.assembly()).toBuilder()
                .setCoordinatorId(nodeId);
        // what this coordinator knows before ZooKeeper does: its own calls in flight, nodes found dead
        for (NodeStatus.Builder node : status.getNodesBuilderList()) {
            node.setLoad(Math.max(node.getLoad(), router.inFlight(node.getId())));
            if (router.isDead(node.getId())) {
                node.setHealthy(false);
            }
        }
        observer.onNext(status.build());
        observer.onCompleted();
    }

    /** Every member with role, address, layers, device and load; layer coverage, pipelines and the plan epoch. */
    public static ClusterStatus clusterStatus(ClusterSnapshot snapshot, PipelineAssembly assembly) {
        ClusterStatus.Builder status = ClusterStatus.newBuilder()
                .setNumLayers(assembly.numLayers())
                .setLayersCovered(assembly.coverage().isComplete())
                .addAllLayerReplicas(assembly.coverage().replicas())
                .setPlanEpoch(snapshot.plan().epoch());
        for (NodeInfo n : snapshot.members().values()) {
            NodeStatus.Builder node = NodeStatus.newBuilder()
                    .setId(n.nodeId())
                    .setRole(NodeStatus.Role.valueOf(n.role().name()))
                    .setAddress(n.address())
                    .setModel(n.model() == null ? "" : n.model())
                    .setDevice(n.device() == null ? "" : n.device())
                    .setLoad(n.activeSessions() + n.queuedRequests())
                    .setHealthy(snapshot.connected() && (n.role() != io.convllava.common.cluster.NodeRole.LLM
                            || n.layers().isPresent()));
            n.layers().ifPresent(r -> node.setLayers(LayerRange.newBuilder().setStart(r.start()).setEnd(r.end())));
            status.addNodes(node);
        }
        for (Pipeline p : assembly.pipelines()) {
            status.addPipelines(io.convllava.proto.v1.Pipeline.newBuilder().addAllNodeIds(p.nodeIds()));
        }
        return status.build();
    }

    /** Streams each token as a Delta; stops the generation once the client has gone or the deadline passed. */
    private static TokenListener streamTo(ServerCallStreamObserver<GenerateResponse> call, FirstToken first) {
        Context context = Context.current();
        return (id, text) -> {
            if (context.isCancelled()) {
                throw Contexts.statusFromCancelled(context).asRuntimeException();
            }
            long now = System.nanoTime();
            if (first.at == 0) {
                first.at = now;
                CoordinatorMetrics.FIRST_TOKEN.observe((now - first.received) / 1e9);
            } else {
                CoordinatorMetrics.TOKEN_LATENCY.observe((now - first.last) / 1e9);
            }
            first.last = now;
            CoordinatorMetrics.GENERATED.inc();
            call.onNext(GenerateResponse.newBuilder()
                    .setDelta(Delta.newBuilder().setText(text).addTokenIds(id)).build());
        };
    }

    /** Ends the call with {@code e} (unless the client left) and logs it; returns the code it ended with. */
    private static Status.Code fail(ServerCallStreamObserver<GenerateResponse> call, StatusRuntimeException e,
                                    String requestId) {
        if (call.isCancelled()) {
            LOG.info("request {} ended: the client cancelled it or its deadline passed", requestId);
            return Status.Code.CANCELLED;
        }
        LOG.info("request {} failed: {} {}", requestId, e.getStatus().getCode(), e.getStatus().getDescription());
        call.onError(e);
        return e.getStatus().getCode();
    }

    /**
     * Waits for room in the cluster ({@link AdmissionControl#awaitRoom}; not when there is no pipeline at all, which
     * routing answers UNAVAILABLE at once), then picks the pipeline: a conversation goes back to its pipeline for the
     * cache kept there; without reuse, to the least loaded.
     */
    private PipelineFailover route(GenerationRequest generation) throws InterruptedException {
        if (!router.assembly().pipelines().isEmpty()) {
            admission.awaitRoom(router::hasRoom, Math.min(MAX_CLUSTER_WAIT_MS, maxQueueWaitMs()));
        }
        return PipelineFailover.start(router, prefixes == null ? null : ConversationAffinity.of(generation),
                incarnation);
    }

    private static long maxQueueWaitMs() {
        Deadline deadline = Context.current().getDeadline();
        return deadline == null ? MAX_QUEUE_WAIT_MS
                : Math.min(MAX_QUEUE_WAIT_MS, Math.max(0, deadline.timeRemaining(TimeUnit.MILLISECONDS)));
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /** When the request came and its first and latest tokens went out (0 = not yet); handler thread only. */
    private static final class FirstToken {
        private final long received;
        private long at;
        private long last;

        FirstToken(long received) {
            this.received = received;
        }
    }
}
