package io.convllava.coordinator.server;

import io.convllava.common.client.EncodedBatch;
import io.convllava.common.client.RemoteImageEncoder;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.transport.PeerLoss;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.generate.EncodedImage;
import io.convllava.coordinator.generate.ImageEncoder;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.routing.Lease;
import io.convllava.coordinator.routing.Router;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Encodes a request's images on vision nodes chosen by content: each image goes to the node its SHA-256 hashes to
 * ({@link Router#visionNodesFor}), the one that has its embeddings cached if any has. Images bound for different
 * nodes are sent as one call per node, all at once, and put back in request order. A node that answers UNAVAILABLE
 * (gone, shutting down: it is health-checked then, and a dead one leaves routing) or RESOURCE_EXHAUSTED (full) is
 * skipped for the rest of the request and its images go to their next choices; any other failure fails the request.
 * An image this coordinator had encoded recently is not sent at all ({@link EmbeddingCache}), and one another request
 * is encoding right now is not sent again: this request waits for that encode ({@link InFlightEncodes}). Text-only
 * requests never reach a vision node. The nodes report each original image's size, which the grounding parser needs
 * to map boxes back to image pixels.
 */
public final class VisionNodeImageEncoder implements ImageEncoder {
    private static final Logger LOG = LoggerFactory.getLogger(VisionNodeImageEncoder.class);

    private final Router router;
    private final TransportOptions transport;
    private final int tokensPerImage;
    private final String requestId;
    private final InFlightEncodes inFlight;
    private final EmbeddingCache recent;

    public VisionNodeImageEncoder(Router router, TransportOptions transport, int tokensPerImage, String requestId) {
        this(router, transport, tokensPerImage, requestId, new InFlightEncodes(), new EmbeddingCache(0));
    }

    /**
     * @param inFlight the encodes in progress for the coordinator's other requests, to wait for instead of repeat
     * @param recent   the embeddings of images encoded recently, taken instead of encoding again
     */
    VisionNodeImageEncoder(Router router, TransportOptions transport, int tokensPerImage, String requestId,
                           InFlightEncodes inFlight, EmbeddingCache recent) {
        this.router = router;
        this.transport = transport;
        this.tokensPerImage = tokensPerImage;
        this.requestId = requestId;
        this.inFlight = inFlight;
        this.recent = recent;
    }

    @Override
    public List<EncodedImage> encode(List<ImageInput> images, boolean keepIntermediates) {
        int count = images.size();
        String[] hashes = new String[count];
        List<List<NodeInfo>> choices = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (images.get(i).bytes() == null) {
                throw new IllegalArgumentException("image " + i + ": a cluster takes encoded image files only");
            }
            hashes[i] = ImageCache.sha256(images.get(i).bytes());
            choices.add(router.visionNodesFor(hashes[i]));
        }
        EncodedImage[] out = new EncodedImage[count];
        List<Integer> mine = new ArrayList<>();
        Map<Integer, CompletableFuture<EncodedImage>> owned = new LinkedHashMap<>();
        Map<Integer, CompletableFuture<EncodedImage>> others = new LinkedHashMap<>();
        int kept = 0;
        for (int i = 0; i < count; i++) {
            if (keepIntermediates) { // intermediates are not shared: encode them for this request
                mine.add(i);
                continue;
            }
            EncodedImage known = recent.get(hashes[i]);
            CoordinatorMetrics.EMBEDDING_CACHE.labelValues(known == null ? "miss" : "hit").inc();
            if (known != null) {
                out[i] = known;
                kept++;
                continue;
            }
            CompletableFuture<EncodedImage> encode = new CompletableFuture<>();
            CompletableFuture<EncodedImage> running = inFlight.claim(hashes[i], encode);
            if (running == null) {
                owned.put(i, encode);
                mine.add(i);
            } else {
                others.put(i, running);
            }
        }
        RuntimeException failure = null;
        try {
            encode(images, mine, choices, keepIntermediates, out);
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        } finally {
            for (Map.Entry<Integer, CompletableFuture<EncodedImage>> e : owned.entrySet()) {
                if (failure == null) {
                    recent.put(hashes[e.getKey()], out[e.getKey()]);
                }
                inFlight.finish(hashes[e.getKey()], e.getValue(), failure == null ? out[e.getKey()] : null, failure);
            }
        }
        List<Integer> again = new ArrayList<>();
        for (Map.Entry<Integer, CompletableFuture<EncodedImage>> e : others.entrySet()) {
            try {
                out[e.getKey()] = e.getValue().join();
            } catch (CompletionException | CancellationException ownerFailed) {
                again.add(e.getKey()); // the other request's encode failed: this one tries for itself
            }
        }
        if (!again.isEmpty()) {
            encode(images, again, choices, keepIntermediates, out);
        }
        if (!others.isEmpty() || kept > 0) {
            LOG.debug("request {}: {} image(s) taken from other requests' encodes, {} from recent ones", requestId,
                    others.size() - again.size(), kept);
        }
        return List.of(out);
    }

    /** Images {@code which} into {@code out}, one call per vision node, UNAVAILABLE nodes skipped. */
    private void encode(List<ImageInput> images, List<Integer> which, List<List<NodeInfo>> choices,
                        boolean keepIntermediates, EncodedImage[] out) {
        if (which.isEmpty()) {
            return;
        }
        Set<String> failed = new HashSet<>();
        List<Integer> todo = new ArrayList<>(which);
        int cached = 0;
        while (!todo.isEmpty()) {
            List<Call> calls = send(assign(todo, choices, failed), images, keepIntermediates);
            todo = new ArrayList<>();
            RuntimeException failure = null;
            for (Call call : calls) {
                try (Lease<NodeInfo> lease = call.lease) {
                    EncodedBatch batch = call.result.join();
                    cached += batch.cachedCount();
                    store(batch, call, out, keepIntermediates);
                } catch (CompletionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof StatusRuntimeException s && movable(s.getStatus())) {
                        LOG.warn("request {}: vision node {} answered {} ({}); its {} image(s) go to the next node",
                                requestId, call.node.nodeId(), s.getStatus().getCode(), s.getStatus().getDescription(),
                                call.images.size());
                        if (PeerLoss.is(s.getStatus())) {
                            router.checkNodes(List.of(call.node)); // a dead one leaves routing for every request
                        }
                        failed.add(call.node.nodeId());
                        todo.addAll(call.images);
                    } else if (failure == null) {
                        failure = translate(cause, call.node);
                    }
                } catch (RuntimeException e) {
                    if (failure == null) {
                        failure = e;
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
            todo.sort(null);
        }
        LOG.debug("request {}: {} image(s) encoded, {} from vision node caches", requestId, which.size(), cached);
    }

    /** Failures another vision node may not have: this one is gone, shutting down or full. */
    private static boolean movable(Status status) {
        return PeerLoss.is(status) || status.getCode() == Status.Code.RESOURCE_EXHAUSTED;
    }

    @Override
    public int tokensPerImage() {
        return tokensPerImage;
    }

    /** Each image to its best choice that has not failed, grouped by node id in order of their first image. */
    private static Map<String, Group> assign(List<Integer> todo, List<List<NodeInfo>> choices, Set<String> failed) {
        Map<String, Group> groups = new LinkedHashMap<>();
        for (int i : todo) {
            NodeInfo node = choices.get(i).stream().filter(n -> !failed.contains(n.nodeId())).findFirst()
                    .orElseThrow(() -> Status.UNAVAILABLE.withDescription("image " + i + ": every vision node ("
                            + String.join(", ", failed) + ") was unavailable; retry once the cluster has recovered")
                            .asRuntimeException());
            groups.computeIfAbsent(node.nodeId(), id -> new Group(node, new ArrayList<>())).images.add(i);
        }
        return groups;
    }

    /** One call per node, all started before any is waited for. */
    private List<Call> send(Map<String, Group> groups, List<ImageInput> images, boolean features) {
        List<Call> calls = new ArrayList<>(groups.size());
        for (Group group : groups.values()) {
            List<byte[]> files = new ArrayList<>(group.images.size());
            for (int i : group.images) {
                files.add(images.get(i).bytes());
            }
            Lease<NodeInfo> lease = router.leaseVisionNode(group.node);
            CompletableFuture<EncodedBatch> result;
            try {
                result = new RemoteImageEncoder(router.channel(group.node), transport)
                        .encodeAsync(requestId, files, group.images, features);
            } catch (RuntimeException e) {
                result = CompletableFuture.failedFuture(e);
            }
            calls.add(new Call(group.node, group.images, lease, result));
        }
        return calls;
    }

    private void store(EncodedBatch batch, Call call, EncodedImage[] out, boolean features) {
        if (batch.tokensPerImage() != tokensPerImage) {
            throw Status.INTERNAL.withDescription("vision node " + call.node.nodeId() + " answered "
                    + batch.tokensPerImage() + " tokens per image, the served model takes " + tokensPerImage)
                    .asRuntimeException();
        }
        for (int k = 0; k < call.images.size(); k++) {
            EncodedBatch.Size size = batch.sizes().get(k);
            HostTensor feature = features ? batch.features().get(k) : null;
            out[call.images.get(k)] = new EncodedImage(batch.embeddings().get(k), size.width(), size.height(), null,
                    feature);
        }
    }

    /** INVALID_ARGUMENT is the caller's fault (its message names the image); a malformed answer is the cluster's. */
    private static RuntimeException translate(Throwable cause, NodeInfo node) {
        if (cause instanceof StatusRuntimeException s) {
            if (s.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
                return new IllegalArgumentException(s.getStatus().getDescription(), s);
            }
            return s;
        }
        if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException) {
            return Status.INTERNAL.withDescription("vision node " + node.nodeId() + ": " + cause.getMessage())
                    .asRuntimeException();
        }
        return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }

    /** The images of a request bound for one node. */
    private record Group(NodeInfo node, List<Integer> images) {
    }

    /** One Encode call in flight: which node, which of the request's images, in the order sent. */
    private record Call(NodeInfo node, List<Integer> images, Lease<NodeInfo> lease,
                        CompletableFuture<EncodedBatch> result) {
    }
}
