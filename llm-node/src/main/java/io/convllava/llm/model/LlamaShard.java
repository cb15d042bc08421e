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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The decoder layers [start, end) of a LLaMA model, with per-session KV caches. The first shard
 * (start == 0) also embeds the prompt; the last (end == numHiddenLayers) also applies the final norm and lm_head.
 * A shard reads only its own tensors from the checkpoint.
 *
 * <p>Thread-safe: calls are serialised by one lock per shard. Each call runs on the caller's thread in its own
 * sub-manager, so nothing it allocates outlives it except the session's cache.
 */
public final class LlamaShard implements AutoCloseable {
    private final LlmConfig config;
    private final int start;
    private final int end;
    private final Placement target;
    private final NDManager root;             // parent of the weights, every session and every call
    private final TokenEmbedding embedding;   // first shard only
    private final List<DecoderLayer> layers;  // layers start..end-1
    private final OutputHead head;            // last shard only
    private final RotaryEmbedding rope;
    private final Map<String, KvCache> sessions = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    private LlamaShard(LlmConfig config, int start, int end, Placement target, NDManager root,
                       TokenEmbedding embedding, List<DecoderLayer> layers, OutputHead head, RotaryEmbedding rope) {
        this.config = config;
        this.start = start;
        this.end = end;
        this.target = target;
        this.root = root;
        this.embedding = embedding;
        this.layers = layers;
        this.head = head;
        this.rope = rope;
    }

    /** Loads layers [start, end) onto {@code device} ("cpu", "gpu" or "gpu:N"), silently. */
    public static LlamaShard load(LlmConfig cfg, TensorSource weights, int start, int end, String device) {
        return load(cfg, weights, start, end, device, LoadProgress.silent());
    }

    /** As {@link #load(LlmConfig, TensorSource, int, int, String)}; the caller keeps ownership of {@code weights}. */
    public static LlamaShard load(LlmConfig cfg, TensorSource weights, int start, int end, String device,
                                  LoadProgress progress) {
        return load(cfg, weights, start, end, Placement.parse(device), progress);
    }

    static LlamaShard load(LlmConfig cfg, TensorSource weights, int start, int end, Placement target,
                           LoadProgress progress) {
        validate(cfg, start, end);
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
            return new LlamaShard(cfg, start, end, target, root, embedding, List.copyOf(layers), head, rope);
        } catch (RuntimeException e) {
            root.close();
            throw e;
        }
    }

    private static void validate(LlmConfig cfg, int start, int end) {
        if (start < 0 || end > cfg.numHiddenLayers() || start >= end) {
            throw new IllegalArgumentException("layer range [" + start + ", " + end + ") is not a non-empty part of [0, "
                    + cfg.numHiddenLayers() + ")");
        }
        if (cfg.hiddenSize() % cfg.numAttentionHeads() != 0 || cfg.headDim() % 2 != 0) {
            throw new IllegalArgumentException("hidden_size " + cfg.hiddenSize() + " must split into "
                    + cfg.numAttentionHeads() + " heads of even size");
        }
        if (cfg.numKeyValueHeads() <= 0 || cfg.numAttentionHeads() % cfg.numKeyValueHeads() != 0) {
            throw new IllegalArgumentException("num_attention_heads " + cfg.numAttentionHeads()
                    + " is not a multiple of num_key_value_heads " + cfg.numKeyValueHeads());
        }
    }

    public int start() {
        return start;
    }

    public int end() {
        return end;
    }

    public boolean isFirst() {
        return start == 0;
    }

    public boolean isLast() {
        return end == config.numHiddenLayers();
    }

    /**
     * Runs the new positions of {@code input} through this shard's layers, appending their keys and values to the
     * session's cache (created on first use) at positions [past, past + T).
     *
     * @throws IllegalArgumentException for the wrong input kind for this stage, a wrong hidden size, an empty input,
     *                                  or a context longer than {@code max_position_embeddings}
     */
    public ShardOutput forward(String sessionId, ShardInput input) {
        int length = input.length();
        checkInput(input, length);
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("shard [" + start + ", " + end + ") is closed");
            }
            KvCache existing = sessions.get(sessionId);
            int past = existing == null ? 0 : existing.length();
            if (past + length > config.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("session '" + sessionId + "': context of " + (past + length)
                        + " positions (" + past + " cached + " + length + " new) exceeds max_position_embeddings "
                        + config.maxPositionEmbeddings());
            }
            KvCache cache = existing != null ? existing : newCache();
            try {
                ShardOutput out = run(cache, input);
                sessions.putIfAbsent(sessionId, cache);
                return out;
            } catch (RuntimeException e) {
                if (existing == null) {
                    cache.close();
                }
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    private KvCache newCache() {
        return new KvCache(root.newSubManager(), layers.size(), config.numKeyValueHeads(), config.headDim(),
                config.maxPositionEmbeddings(), target.dtype());
    }

    /** One session's step; batching sessions later means stacking their rows here with per-session caches. */
    private ShardOutput run(KvCache cache, ShardInput input) {
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
                return new ShardOutput(null, HostTensor.of(head.logits(x), config.vocabSize()));
            }
            float[] hidden = x.toType(DataType.FLOAT32, false).toDevice(Device.cpu(), false).toFloatArray();
            return new ShardOutput(HostTensor.of(hidden, length, config.hiddenSize()), null);
        }
    }

    private void checkInput(ShardInput input, int length) {
        String stage = "shard [" + start + ", " + end + ")";
        if (input instanceof ShardInput.Segments && !isFirst()) {
            throw new IllegalArgumentException(stage + " is not the first stage: it takes ShardInput.Hidden");
        }
        if (input instanceof ShardInput.Hidden hidden) {
            if (isFirst()) {
                throw new IllegalArgumentException(stage + " is the first stage: it takes ShardInput.Segments");
            }
            checkRows("hidden", hidden.hidden());
        }
        if (input instanceof ShardInput.Segments segments) {
            for (PromptSegment s : segments.segments()) {
                if (s instanceof PromptSegment.Embeddings e) {
                    checkRows("image embeddings", e.embeddings());
                }
            }
        }
        if (length == 0) {
            throw new IllegalArgumentException(stage + ": input has no positions");
        }
    }

    private void checkRows(String what, HostTensor t) {
        if (t.rank() != 2 || t.dim(1) != config.hiddenSize()) {
            throw new IllegalArgumentException(what + " must have shape [T, " + config.hiddenSize() + "], got "
                    + Arrays.toString(t.shape()));
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

    /** Frees the session's cache; unknown ids are ignored. */
    public void release(String sessionId) {
        lock.lock();
        try {
            KvCache cache = sessions.remove(sessionId);
            if (cache != null) {
                cache.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Positions cached for the session (0 if unknown). */
    public int sessionLength(String sessionId) {
        KvCache cache = sessions.get(sessionId);
        return cache == null ? 0 : cache.length();
    }

    public int activeSessions() {
        return sessions.size();
    }

    /** Arrays alive in this shard (weights, tables, caches, unfinished calls): lets tests see leaks. */
    int liveArrays() {
        return root.getManagedArrays().size();
    }

    /** Frees every session and the weights. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed) {
                closed = true;
                sessions.values().forEach(KvCache::close);
                sessions.clear();
                root.close();
            }
        } finally {
            lock.unlock();
        }
    }
}
