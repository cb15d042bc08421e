package io.convllava.llm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;

import java.util.ArrayList;
import java.util.List;

/**
 * A shard computed by libtorch through DJL: weights widened to float32 (CPU) or float16 (GPU) and owned by libtorch.
 * Each call runs in its own sub-manager, so nothing it allocates outlives it except the session's cache.
 */
final class DjlEngine implements ShardEngine {
    private final LlmConfig config;
    private final Placement target;
    private final NDManager root;             // parent of the weights, every session and every call
    private final TokenEmbedding embedding;   // first shard only
    private final List<DecoderLayer> layers;  // the shard's layers
    private final OutputHead head;            // last shard only
    private final RotaryEmbedding rope;

    private DjlEngine(LlmConfig config, Placement target, NDManager root, TokenEmbedding embedding,
                      List<DecoderLayer> layers, OutputHead head, RotaryEmbedding rope) {
        this.config = config;
        this.target = target;
        this.root = root;
        this.embedding = embedding;
        this.layers = layers;
        this.head = head;
        this.rope = rope;
    }

    static DjlEngine load(LlmConfig cfg, TensorSource weights, int start, int end, Placement target,
                          LoadProgress progress) {
        NDManager root = NDManager.newBaseManager(target.device(), "PyTorch");
        try {
            NDManager weightManager = root.newSubManager();
            WeightLoader loader = new WeightLoader(weights, target, weightManager);
            TokenEmbedding embedding = start == 0
                    ? TokenEmbedding.load(loader, cfg.vocabSize(), cfg.hiddenSize()) : null;
            List<DecoderLayer> layers = new ArrayList<>(end - start);
            for (int i = start; i < end; i++) {
                layers.add(DecoderLayer.load(loader, cfg, i));
                progress.layerLoaded(start, end, i - start + 1, end - start);
            }
            OutputHead head = end == cfg.numHiddenLayers() ? OutputHead.load(loader, cfg) : null;
            RotaryEmbedding rope = RotaryEmbedding.create(loader, cfg.headDim(), cfg.maxPositionEmbeddings(),
                    cfg.ropeTheta());
            weightManager.cap(); // an op whose output lands among the weights is a leak: make it throw
            return new DjlEngine(cfg, target, root, embedding, List.copyOf(layers), head, rope);
        } catch (RuntimeException e) {
            root.close();
            throw e;
        }
    }

    @Override
    public Session newSession() {
        return new KvCache(root.newSubManager(), layers.size(), config.numKeyValueHeads(), config.headDim(),
                config.maxPositionEmbeddings(), target.dtype());
    }

    @Override
    public ShardOutput forward(Session session, ShardInput input) {
        KvCache cache = (KvCache) session;
        try (NDManager call = root.newSubManager()) {
            NDArray x = activations(call, input); // [T, H]
            int length = (int) x.getShape().get(0);
            int past = cache.length();
            cache.reserve(length);
            ForwardStep step = new ForwardStep(call, cache, past, length, rope.angles(call, past, length),
                    length > 1 ? CausalMask.create(call, past, length) : null);
            for (int i = 0; i < layers.size(); i++) {
                try (NDScope scope = new NDScope()) { // frees each layer's intermediates before the next layer
                    scope.suppressNotUsedWarning();
                    x = layers.get(i).forward(x, i, rope, step);
                    NDScope.unregister(x);
                }
            }
            cache.advance(length);
            if (head != null) {
                return new ShardOutput(null, LogitsRow.of(head.logits(x)));
            }
            float[] hidden = x.toType(DataType.FLOAT32, false).toDevice(Device.cpu(), false).toFloatArray();
            return new ShardOutput(HostTensor.of(hidden, length, config.hiddenSize()), null);
        }
    }

    /** The shard's input as [T, H] in the activation dtype on the target device, owned by {@code call}. */
    private NDArray activations(NDManager call, ShardInput input) {
        if (input instanceof ShardInput.Hidden hidden) {
            return toTarget(call, hidden.hidden());
        }
        NDList pieces = new NDList();
        for (PromptSegment segment : ((ShardInput.Segments) input).segments()) {
            if (segment.length() == 0) {
                continue;
            }
            if (segment instanceof PromptSegment.Tokens tokens) {
                pieces.add(embedding.embed(call, tokens.ids()));
            } else {
                pieces.add(toTarget(call, ((PromptSegment.Embeddings) segment).embeddings()));
            }
        }
        return pieces.size() == 1 ? pieces.get(0) : NDArrays.concat(pieces, 0);
    }

    private NDArray toTarget(NDManager call, HostTensor t) {
        return call.create(t.data(), new Shape(t.shape())).toType(target.dtype(), false);
    }

    /** Arrays alive (weights, tables, caches, unfinished calls): lets tests see leaks. */
    int liveArrays() {
        return root.getManagedArrays().size();
    }

    @Override
    public void close() {
        root.close();
    }
}
