package io.convllava.llm.model;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.llm.cpu.CpuDecoder;
import ai.djl.ndarray.types.DataType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The decoder layers [start, end) of a LLaMA model, with per-session KV caches. The first shard
 * (start == 0) also embeds the prompt; the last (end == numHiddenLayers) also applies the final norm and lm_head.
 * A shard reads only its own tensors from the checkpoint.
 *
 * <p>On the CPU, a checkpoint whose decoder matrices are stored in bf16/fp16 is computed by {@link CpuEngine}: the
 * weights stay 16-bit (a view of the checkpoint's memory map), the arithmetic is float32 in Java. Otherwise (a GPU,
 * float32 checkpoints, or {@code -D}{@value #ENGINE_PROPERTY}{@code =djl}) libtorch computes it ({@link DjlEngine}).
 *
 * <p>Thread-safe: calls are serialised by one lock per shard; an llm node drives it from one scheduler thread.
 */
public final class LlamaShard implements AutoCloseable {
    /** System property that forces an engine: {@code djl} or {@code cpu} (default: cpu where it can run). */
    public static final String ENGINE_PROPERTY = "convllava.engine";
    /** Most positions of one session in one {@link #forwardBatch} step: longer prompts run in chunks of this. */
    public static final int CHUNK = CpuDecoder.CHUNK;

    private final LlmConfig config;
    private final int start;
    private final int end;
    private final ShardEngine engine;
    private final Map<String, ShardEngine.Session> sessions = new ConcurrentHashMap<>();
    /** Caches of finished sessions kept for a later session to continue from, by key. */
    private final Map<String, ShardEngine.Session> kept = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    private LlamaShard(LlmConfig config, int start, int end, ShardEngine engine) {
        this.config = config;
        this.start = start;
        this.end = end;
        this.engine = engine;
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
        ShardEngine engine = usesCpuEngine(weights, start, end, target)
                ? new CpuEngine(cfg, CpuDecoder.load(cfg, weights, start, end,
                        loaded -> progress.layerLoaded(start, end, loaded, end - start)), end == cfg.numHiddenLayers())
                : DjlEngine.load(cfg, weights, start, end, target, progress);
        return new LlamaShard(cfg, start, end, engine);
    }

    private static boolean usesCpuEngine(TensorSource weights, int start, int end, Placement target) {
        String forced = System.getProperty(ENGINE_PROPERTY, "");
        boolean cpuFloat32 = !target.device().isGpu() && target.dtype() == DataType.FLOAT32;
        if (forced.equals("djl") || !cpuFloat32) {
            return false;
        }
        boolean half = CpuDecoder.canLoad(weights, start, end);
        if (forced.equals("cpu") && !half) {
            throw new IllegalArgumentException("-D" + ENGINE_PROPERTY + "=cpu needs bf16 or fp16 decoder weights");
        }
        return half;
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
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("shard [" + start + ", " + end + ") is closed");
            }
            check(sessionId, input);
            ShardEngine.Session existing = sessions.get(sessionId);
            ShardEngine.Session cache = existing != null ? existing : engine.newSession();
            try {
                ShardOutput out = engine.forward(cache, input);
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

    /**
     * One step over several sessions at once (each at most once, each input at most {@link #CHUNK} positions): the
     * weight products run once for all of them where the engine can (the CPU engine), attention per session. Outputs
     * are in the order of {@code parts}, each equal to what {@link #forward} gives for that part alone. Parts are
     * checked first: a bad one throws before anything runs.
     */
    public List<ShardOutput> forwardBatch(List<StepPart> parts) {
        Set<String> seen = new HashSet<>();
        for (StepPart part : parts) {
            check(part.sessionId(), part.input());
            if (!seen.add(part.sessionId())) {
                throw new IllegalArgumentException("session '" + part.sessionId() + "' appears twice in one step");
            }
        }
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("shard [" + start + ", " + end + ") is closed");
            }
            List<ShardEngine.Part> engineParts = new ArrayList<>(parts.size());
            List<String> created = new ArrayList<>();
            for (StepPart part : parts) {
                ShardEngine.Session cache = sessions.get(part.sessionId());
                if (cache == null) {
                    cache = engine.newSession();
                    sessions.put(part.sessionId(), cache);
                    created.add(part.sessionId());
                }
                engineParts.add(new ShardEngine.Part(cache, part.input()));
            }
            try {
                return engine.forward(engineParts);
            } catch (RuntimeException e) {
                created.forEach(this::release);
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks {@code input} as the session's next input: the right kind for this stage, rows of the hidden size, and
     * room in the context ({@code max_position_embeddings}).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public void check(String sessionId, ShardInput input) {
        int length = input.length();
        checkInput(input, length);
        int past = sessionLength(sessionId);
        if (past + length > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("session '" + sessionId + "': context of " + (past + length)
                    + " positions (" + past + " cached + " + length + " new) exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
    }

    /** KV memory a session of {@code positions} positions holds on this shard, in bytes (whole blocks). */
    public long cacheBytesFor(int positions) {
        long blocks = (positions + CpuDecoder.KV_BLOCK - 1) / CpuDecoder.KV_BLOCK;
        long row = (long) config.numKeyValueHeads() * config.headDim() * Float.BYTES;
        return 2L * (end - start) * blocks * CpuDecoder.KV_BLOCK * row;
    }

    /** Bytes of KV memory the session holds (0 if unknown). */
    public long sessionBytes(String sessionId) {
        ShardEngine.Session cache = sessions.get(sessionId);
        return cache == null ? 0 : cache.bytes();
    }

    /** One session's input in {@link #forwardBatch}. */
    public record StepPart(String sessionId, ShardInput input) {
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

    /** Frees the session's cache; unknown ids are ignored. */
    public void release(String sessionId) {
        lock.lock();
        try {
            ShardEngine.Session cache = sessions.remove(sessionId);
            if (cache != null) {
                cache.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Keeps the session's cache under {@code key} instead of freeing it (a cache kept before under the key is
     * freed). Returns the bytes kept, 0 when the session is unknown.
     */
    public long keep(String sessionId, String key) {
        lock.lock();
        try {
            ShardEngine.Session cache = sessions.remove(sessionId);
            if (cache == null) {
                return 0;
            }
            ShardEngine.Session old = kept.put(key, cache);
            if (old != null) {
                old.close();
            }
            return cache.bytes();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Starts session {@code sessionId} (which must be new) from a copy of the first {@code length} positions of the
     * cache kept under {@code key}, which stays kept for other sessions (several requests may share a prompt's
     * prefix at once). False when no cache is kept under the key or it holds fewer positions.
     */
    public boolean startFrom(String key, String sessionId, int length) {
        lock.lock();
        try {
            ShardEngine.Session cache = kept.get(key);
            if (cache == null || cache.length() < length || sessions.containsKey(sessionId)) {
                return false;
            }
            sessions.put(sessionId, cache.copy(length));
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Positions of the cache kept under {@code key}, or -1 when none is. */
    public int keptLength(String key) {
        ShardEngine.Session cache = kept.get(key);
        return cache == null ? -1 : cache.length();
    }

    /** Frees the cache kept under {@code key}, if any; returns its bytes. */
    public long dropKept(String key) {
        lock.lock();
        try {
            ShardEngine.Session cache = kept.remove(key);
            if (cache == null) {
                return 0;
            }
            long bytes = cache.bytes();
            cache.close();
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    /** Positions cached for the session (0 if unknown). */
    public int sessionLength(String sessionId) {
        ShardEngine.Session cache = sessions.get(sessionId);
        return cache == null ? 0 : cache.length();
    }

    public int activeSessions() {
        return sessions.size();
    }

    /** Bytes of KV memory held by every session of this shard. */
    public long cacheBytes() {
        return sessions.values().stream().mapToLong(ShardEngine.Session::bytes).sum();
    }

    /** Bytes of KV memory kept allocated for new sessions, beyond what sessions hold ({@link #cacheBytes()}). */
    public long freeKvBytes() {
        return engine.freeKvBytes();
    }

    /** Which engine computes this shard, e.g. for benchmarks: "cpu" or "djl". */
    public String engineName() {
        return engine instanceof CpuEngine ? "cpu" : "djl";
    }

    /** Arrays alive in a libtorch-computed shard (weights, tables, caches, unfinished calls): lets tests see leaks. */
    int liveArrays() {
        return engine instanceof DjlEngine djl ? djl.liveArrays() : 0;
    }

    /** Frees every session and the weights. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed) {
                closed = true;
                sessions.values().forEach(ShardEngine.Session::close);
                sessions.clear();
                kept.values().forEach(ShardEngine.Session::close);
                kept.clear();
                engine.close();
            }
        } finally {
            lock.unlock();
        }
    }
}
