package io.convllava.common.client;

import io.convllava.common.transport.SegmentCodec;

import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.Pipeline;
import io.convllava.common.pipeline.DecoderPipeline;
import io.convllava.common.pipeline.PrefillOptions;
import io.convllava.common.pipeline.PrefixUnavailableException;
import io.convllava.common.pipeline.StepResult;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.RequestIds;
import io.convllava.common.transport.SamplingCodec;
import io.convllava.common.transport.TensorCodec;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ForwardRequest;
import io.convllava.proto.v1.ForwardResponse;
import io.convllava.proto.v1.LayerRange;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.PrefixReuse;
import io.convllava.proto.v1.Segments;
import io.convllava.proto.v1.StageAddress;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A pipeline of llm nodes seen as one {@link DecoderPipeline}: each step is one Forward to the first stage, which
 * passes it down the chain; the last stage samples and the token comes back. Failures surface as
 * {@link StatusRuntimeException} with the failing stage's status, after the session was released on every stage
 * that can be reached. The pipeline checks that the stages' caches hold as many positions as it has sent.
 */
public final class RemotePipeline implements DecoderPipeline {
    /** System property: decode batches in flight to a chain, instead of one per host among its stages. */
    public static final String BATCHES_IN_FLIGHT = "convllava.decodeBatchesInFlight";
    private final List<StageAddress> stages;
    private final ChannelPool channels;
    private final boolean ownsChannels;
    private final long planEpoch;
    /** Prefix of the session ids this pipeline makes ({@link SessionOwner}); null = none. */
    private final String owner;
    private final Map<String, Integer> sessionLengths = new ConcurrentHashMap<>();

    /**
     * @param stages    the chain, first stage (layer 0) first; where layer ranges are given they must be contiguous
     * @param channels  where channels to the stages come from; not closed by {@link #close()}
     * @param planEpoch the plan the chain was taken from, checked by the nodes; 0 = unchecked
     */
    public RemotePipeline(List<StageAddress> stages, ChannelPool channels, long planEpoch) {
        this(stages, channels, false, planEpoch, null);
    }

    private RemotePipeline(List<StageAddress> stages, ChannelPool channels, boolean ownsChannels, long planEpoch,
                           String owner) {
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("a pipeline needs at least one stage");
        }
        for (int i = 1; i < stages.size(); i++) {
            LayerRange previous = stages.get(i - 1).getLayers();
            LayerRange current = stages.get(i).getLayers();
            if (stages.get(i - 1).hasLayers() && stages.get(i).hasLayers() && current.getStart() != previous.getEnd()) {
                throw new IllegalArgumentException("stage " + stages.get(i).getNodeId() + " starts at layer "
                        + current.getStart() + " but " + stages.get(i - 1).getNodeId() + " ends at "
                        + previous.getEnd());
            }
        }
        this.stages = List.copyOf(stages);
        this.channels = channels;
        this.ownsChannels = ownsChannels;
        this.planEpoch = planEpoch;
        this.owner = owner;
    }

    /** A pipeline with channels of its own, shut down by {@link #close()}. */
    public static RemotePipeline connect(List<StageAddress> stages, TransportOptions options) {
        return new RemotePipeline(stages, new ChannelPool(options), true, 0, null);
    }

    /**
     * The chain of a cluster plan, driven by the process {@code owner} ({@link SessionOwner}): its session ids say so,
     * and the stages free them when that process leaves the cluster.
     */
    public static RemotePipeline of(Pipeline pipeline, ChannelPool channels, long planEpoch, String owner) {
        return new RemotePipeline(pipeline.stages().stream().map(RemotePipeline::stageOf).toList(), channels, false,
                planEpoch, owner);
    }

    /** A stage address with the layers the node is expected to hold. */
    public static StageAddress stage(String nodeId, String address, int start, int end) {
        return StageAddress.newBuilder().setNodeId(nodeId).setAddress(address)
                .setLayers(LayerRange.newBuilder().setStart(start).setEnd(end)).build();
    }

    private static StageAddress stageOf(NodeInfo node) {
        if (node.layers().isEmpty()) {
            throw new IllegalArgumentException("node " + node.nodeId() + " has no layers loaded");
        }
        return stage(node.nodeId(), node.address(), node.layerStart(), node.layerEnd());
    }

    public List<StageAddress> stages() {
        return stages;
    }

    @Override
    public StepResult prefill(String sessionId, List<PromptSegment> segments, SamplingParams params, int step,
                              boolean returnLogits) {
        return forward(sessionId, SegmentCodec.encode(segments), params, step, returnLogits, PrefillOptions.NONE,
                false);
    }

    @Override
    public StepResult prefill(String sessionId, List<PromptSegment> segments, SamplingParams params, int step,
                              boolean returnLogits, PrefillOptions options) {
        try {
            return forward(sessionId, SegmentCodec.encode(segments), params, step, returnLogits, options, false);
        } catch (StatusRuntimeException e) {
            if (options.reuses() && e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
                throw new PrefixUnavailableException("prefix " + options.reuseKey() + " is not held: "
                        + e.getStatus().getDescription(), e);
            }
            throw e;
        }
    }

    @Override
    public String newSessionId() {
        return owner == null ? DecoderPipeline.super.newSessionId() : SessionOwner.sessionId(owner);
    }

    @Override
    public boolean keepsPrefixes() {
        return true;
    }

    @Override
    public StepResult decode(String sessionId, int token, SamplingParams params, int step, boolean returnLogits) {
        return forward(sessionId, decodeInput(token), params, step, returnLogits, PrefillOptions.NONE, true);
    }

    /** The step as an item of the next ForwardBatch to the first stage; after a failure the caller releases. */
    @Override
    public CompletableFuture<StepResult> decodeAsync(String sessionId, int token, SamplingParams params, int step) {
        ForwardRequest request = request(sessionId, decodeInput(token), params, step, false, PrefillOptions.NONE);
        return batcher().forwardAsync(request).thenApply(response -> result(sessionId, response));
    }

    @Override
    public void endDecoding(String sessionId) {
        DecodeStepBatcher batcher = channels.attachedIfMade(stages.get(0).getAddress(), DecodeStepBatcher.class);
        if (batcher != null) {
            batcher.leave(sessionId);
        }
    }

    private static Segments decodeInput(int token) {
        return SegmentCodec.encode(List.of(new PromptSegment.Tokens(new int[]{token})));
    }

    /** @param batched whether the step may share a ForwardBatch call with other sessions' steps */
    private StepResult forward(String sessionId, Segments segments, SamplingParams params, int step,
                               boolean returnLogits, PrefillOptions options, boolean batched) {
        ForwardRequest request = request(sessionId, segments, params, step, returnLogits, options);
        ForwardResponse response;
        try {
            response = batched
                    ? batcher().forward(request)
                    : Channels.withDeadline(LlmNodeGrpc.newBlockingStub(channels.get(stages.get(0).getAddress())),
                            channels.options()).forward(request);
        } catch (StatusRuntimeException e) {
            release(sessionId); // the stages released what they saw; this reaches the ones the step never did
            throw e;
        }
        return result(sessionId, response);
    }

    /** The first stage's request for one step of the session; the request id comes from the calling context. */
    private ForwardRequest request(String sessionId, Segments segments, SamplingParams params, int step,
                                   boolean returnLogits, PrefillOptions options) {
        StageAddress first = stages.get(0);
        ForwardRequest.Builder request = ForwardRequest.newBuilder()
                .setSessionId(sessionId)
                .setStep(step)
                .setSegments(segments)
                .addAllRoute(stages.subList(1, stages.size()))
                .setSampling(SamplingCodec.encode(params))
                .setReturnLogits(returnLogits)
                .setPlanEpoch(planEpoch)
                .setReservePositions(options.reservePositions());
        if (options.reuses()) {
            request.setReusePrefix(PrefixReuse.newBuilder().setKey(options.reuseKey())
                    .setLength(options.reuseLength()));
        } else {
            request.setPastLength(sessionLengths.getOrDefault(sessionId, 0));
        }
        if (first.hasLayers()) {
            request.setExpectedLayers(first.getLayers());
        }
        String requestId = RequestIds.current();
        if (requestId != null) {
            request.setRequestId(requestId);
        }
        return request.build();
    }

    private StepResult result(String sessionId, ForwardResponse response) {
        sessionLengths.put(sessionId, response.getSessionLength());
        float[] logits = response.hasLogits()
                ? TensorCodec.decode(response.getLogits(), "ForwardResponse.logits").data() : null;
        return new StepResult(response.getToken(), logits);
    }

    @Override
    public void release(String sessionId) {
        release(sessionId, "");
    }

    @Override
    public void release(String sessionId, String keepAs) {
        sessionLengths.remove(sessionId);
        endDecoding(sessionId);
        ReleaseChain.release(channels, sessionId, stages, keepAs);
    }

    /** The decode steps to the first stage, shared with every pipeline of this channel pool that starts there. */
    private DecodeStepBatcher batcher() {
        return channels.attached(stages.get(0).getAddress(), DecodeStepBatcher.class,
                channel -> new DecodeStepBatcher(channel, channels.options(), batchesInFlight(stages)));
    }

    /**
     * Decode batches in flight to a chain: one per host among its stages (stages on one host share its cores, and a
     * second batch there only halves the first), unless the system property {@value #BATCHES_IN_FLIGHT} sets it.
     */
    static int batchesInFlight(List<StageAddress> stages) {
        int set = batchesInFlightSet();
        return set > 0 ? set : (int) stages.stream().map(stage -> host(stage.getAddress())).distinct().count();
    }

    /**
     * The decode batches in flight that {@value #BATCHES_IN_FLIGHT} sets, 0 when it is not set; a coordinator checks it
     * as it starts.
     *
     * @throws IllegalArgumentException when the property is not a whole number from 1 to 64
     */
    public static int batchesInFlightSet() {
        String value = System.getProperty(BATCHES_IN_FLIGHT);
        if (value == null || value.isBlank()) {
            return 0;
        }
        int set;
        try {
            set = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            set = -1;
        }
        if (set < 1 || set > 64) {
            throw new IllegalArgumentException("system property " + BATCHES_IN_FLIGHT + " must be a whole number from"
                    + " 1 to 64, got '" + value + "' (leave it out for one per host among a pipeline's stages)");
        }
        return set;
    }

    /** "host" of "host:port" ("[::1]" of "[::1]:port"). */
    private static String host(String address) {
        int colon = address.lastIndexOf(':');
        return colon < 0 ? address : address.substring(0, colon);
    }

    @Override
    public void close() {
        if (ownsChannels) {
            channels.close();
        }
    }
}
