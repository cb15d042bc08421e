package io.convllava.llm.schedule;

import io.convllava.common.node.FaultInjection;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.ShardOutput;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Continuous batching for one shard: a single thread forms one step from every session that has work, at every
 * step. Sessions join and leave between steps; a decode is one row, a prompt runs in chunks; each step takes every
 * waiting decode first, then prompt chunks while the step's token budget lasts (at least one piece of work per step),
 * so neither starves. The weight products of a step run once for all of its rows ({@link LlamaShard#forwardBatch}).
 *
 * <p>A new session is admitted when its KV reservation (prompt plus the new tokens it may generate) fits the node's
 * KV budget and a session place is free, else refused at once with RESOURCE_EXHAUSTED; a caller that gives up
 * (cancelled, deadline) is dropped between steps. Jobs that finish in a step are handed together to
 * {@code finished}, which answers them or sends them on without blocking; failures are told on a completion thread.
 * Releases, idle sweeps and shard replacement run on the scheduler thread between steps, so the shard is only
 * ever touched by one thread.
 */
public final class StepScheduler<J extends StepJob> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StepScheduler.class);
    private final String name;
    private final BatchLimits limits;
    private final Consumer<List<J>> finished;
    private final ExecutorService completions;
    private final Thread thread;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final ArrayDeque<J> incoming = new ArrayDeque<>();       // guarded by lock
    private final ArrayDeque<Runnable> controls = new ArrayDeque<>(); // guarded by lock
    private boolean closed;                                            // guarded by lock

    // read by any thread, written by the scheduler thread (busy also by submit)
    private final Set<String> busy = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> reserved = new ConcurrentHashMap<>();
    private final LlamaShard shard;

    // scheduler thread only
    private final List<J> waiting = new ArrayList<>(); // arrived, not yet admitted
    private final List<J> running = new ArrayList<>();
    private final Map<String, Long> lastUsed = new ConcurrentHashMap<>();
    /** Caches kept by finished sessions for later ones to continue from: key -> bytes, least recently used first. */
    private final LinkedHashMap<String, Long> kept = new LinkedHashMap<>(16, 0.75f, true);
    private volatile long keptBytes;
    private volatile long steps; // written by the scheduler thread only
    private final long promptStepDelayMs = FaultInjection.delayMs(FaultInjection.PROMPT_STEP_DELAY);
    private final long decodeStepDelayMs = FaultInjection.delayMs(FaultInjection.DECODE_STEP_DELAY);

    /**
     * @param finished told of the jobs that finished in a step (in the step's order), on the scheduler thread between
     *                 steps: it must not block (answer, or start an asynchronous call, and return)
     */
    public StepScheduler(String name, LlamaShard shard, BatchLimits limits, Consumer<List<J>> finished) {
        this.name = name;
        this.shard = shard;
        this.limits = limits;
        this.finished = finished;
        this.completions = Executors.newSingleThreadExecutor(r -> daemon(r, name + "-completions"));
        this.thread = daemon(this::loop, name + "-steps");
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public StepScheduler<J> start() {
        thread.start();
        return this;
    }

    /**
     * Queues a job. A session has at most one job at a time.
     *
     * @throws io.grpc.StatusRuntimeException FAILED_PRECONDITION when the session already has a job here,
     *                                        UNAVAILABLE when the scheduler is closed
     */
    public void submit(J job) {
        if (!busy.add(job.sessionId())) {
            throw Status.FAILED_PRECONDITION.withDescription(name + ": session " + job.sessionId()
                    + " already has a step in progress; send its next step after the previous one answered")
                    .asRuntimeException();
        }
        lock.lock();
        try {
            if (closed) {
                busy.remove(job.sessionId());
                throw Status.UNAVAILABLE.withDescription(name + " is shutting down").asRuntimeException();
            }
            incoming.add(job);
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code submissions} (calls of {@link #submit}) holding the queue, so that the jobs they queue are taken
     * together: the items of one ForwardBatch share a step instead of trickling into several.
     */
    public void submitTogether(Runnable submissions) {
        lock.lock();
        try {
            submissions.run();
        } finally {
            lock.unlock();
        }
    }

    /** Frees the session's KV cache between steps (failing a job it still has); completes with whether it was held. */
    public CompletableFuture<Boolean> release(String sessionId) {
        return release(sessionId, "");
    }

    /**
     * As {@link #release(String)}, but with a non-empty {@code keepAs} the cache is kept under that key for a later
     * session to continue from (ForwardRequest.reuse_prefix), counted in the KV budget until evicted.
     */
    public CompletableFuture<Boolean> release(String sessionId, String keepAs) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        control(() -> {
            if (keepAs.isEmpty() || busy.contains(sessionId)) {
                done.complete(releaseNow(sessionId, "the session was released"));
                return;
            }
            boolean held = shard.sessionLength(sessionId) > 0;
            dropKept(keepAs);
            long bytes = shard.keep(sessionId, keepAs);
            releaseSession(sessionId);
            if (bytes > 0) {
                kept.put(keepAs, bytes);
                keptBytes += bytes;
                evictKept(0);
            }
            done.complete(held);
        }, done);
        return done;
    }

    /** Releases the sessions without a job whose latest step is older than {@code idle}; completes with how many. */
    public CompletableFuture<Integer> releaseIdle(Duration idle) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        control(() -> {
            long now = System.nanoTime();
            int released = 0;
            for (Map.Entry<String, Long> e : new ArrayList<>(lastUsed.entrySet())) {
                if (!busy.contains(e.getKey()) && now - e.getValue() > idle.toNanos()) {
                    LOG.warn("{}: session {} had no step for over {} s; releasing its KV cache", name, e.getKey(),
                            idle.toSeconds());
                    releaseNow(e.getKey(), "idle");
                    released++;
                }
            }
            done.complete(released);
        }, done);
        return done;
    }

    /** Releases the sessions without a job whose id {@code matches}; completes with how many. */
    public CompletableFuture<Integer> releaseWhere(Predicate<String> matches, String why) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        control(() -> {
            int released = 0;
            for (String session : new ArrayList<>(lastUsed.keySet())) {
                if (!busy.contains(session) && matches.test(session)) {
                    releaseNow(session, why);
                    released++;
                }
            }
            done.complete(released);
        }, done);
        return done;
    }

    private void control(Runnable action, CompletableFuture<?> done) {
        lock.lock();
        try {
            if (closed) {
                done.completeExceptionally(new IllegalStateException(name + " is closed"));
                return;
            }
            controls.add(action);
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    public LlamaShard shard() {
        return shard;
    }

    /** Sessions holding (or reserving) KV memory here. */
    public int sessions() {
        return reserved.size();
    }

    /** KV memory reserved by the sessions, in bytes. */
    public long reservedBytes() {
        return reserved.values().stream().mapToLong(Long::longValue).sum();
    }

    /** KV memory of the caches kept for reuse, in bytes. */
    public long keptBytes() {
        return keptBytes;
    }

    /** Steps run so far. */
    public long steps() {
        return steps;
    }

    private void loop() {
        while (true) {
            List<J> arrived = new ArrayList<>();
            List<Runnable> actions = new ArrayList<>();
            lock.lock();
            try {
                while (!closed && incoming.isEmpty() && controls.isEmpty() && running.isEmpty()) {
                    wake.awaitUninterruptibly();
                }
                if (closed) {
                    break;
                }
                arrived.addAll(incoming);
                incoming.clear();
                actions.addAll(controls);
                controls.clear();
            } finally {
                lock.unlock();
            }
            waiting.addAll(arrived);
            try {
                actions.forEach(Runnable::run);
                if (!actions.isEmpty()) {
                    observeMemory();
                }
                dropCancelled();
                admit();
                runStep();
            } catch (RuntimeException | Error e) {
                LOG.error("{}: scheduler step failed", name, e);
                Status status = Status.INTERNAL.withDescription(name + ": " + e).withCause(e);
                for (J job : new ArrayList<>(running)) {
                    fail(job, status);
                }
            }
        }
        Status down = Status.UNAVAILABLE.withDescription(name + " is shutting down");
        lock.lock();
        try {
            waiting.addAll(incoming);
            incoming.clear();
        } finally {
            lock.unlock();
        }
        for (J job : new ArrayList<>(waiting)) {
            fail(job, down);
        }
        for (J job : new ArrayList<>(running)) {
            fail(job, down);
        }
    }

    private void dropCancelled() {
        List<J> all = new ArrayList<>(waiting);
        all.addAll(running);
        for (J job : all) {
            if (job.isCancelled()) {
                fail(job, Status.CANCELLED.withDescription(name + ": the caller cancelled"));
            }
        }
    }

    /**
     * Jobs of held sessions run from the next step; a new session is admitted when its reservation fits the KV
     * budget and a session place is free, and refused at once otherwise (RESOURCE_EXHAUSTED: the caller may try
     * another pipeline, or retry when sessions end).
     */
    private void admit() {
        for (J job : waiting) {
            String session = job.sessionId();
            Long held = reserved.get(session);
            if (held != null) {
                reserved.put(session, Math.max(held, shard.cacheBytesFor(shard.sessionLength(session) + job.length())));
                running.add(job);
                continue;
            }
            if (job.reuseKey() != null && !startFromKept(job)) {
                continue;
            }
            long need = shard.cacheBytesFor(Math.max(job.reservePositions(),
                    shard.sessionLength(session) + job.length()));
            long budget = limits.kvCacheBytes();
            evictKept(need);
            long inUse = reservedBytes() + keptBytes;
            String refusal = null;
            if (reserved.size() >= limits.maxSessions()) {
                refusal = String.format("%s: %d sessions already held (max %d, --max-sessions); retry later or on"
                        + " another pipeline", name, reserved.size(), limits.maxSessions());
            } else if (budget > 0 && inUse + need > budget) {
                refusal = String.format("%s: session %s needs %.1f MB of KV memory for %d positions, %.1f MB of the"
                        + " node's %.1f MB (--kv-cache-bytes) are reserved; %s", name, session, need / 1e6,
                        job.reservePositions(), inUse / 1e6, budget / 1e6, need > budget
                                ? "shorten the prompt or max_new_tokens" : "retry later or on another pipeline");
            }
            if (refusal != null) {
                failRemoved(job, Status.RESOURCE_EXHAUSTED.withDescription(refusal));
                continue;
            }
            reserved.put(session, need);
            running.add(job);
        }
        waiting.clear();
    }

    /**
     * Starts a new session from a copy of the kept cache it names (which stays kept, most recently used now); fails
     * the job (and returns false) when it cannot.
     */
    private boolean startFromKept(J job) {
        String key = job.reuseKey();
        if (kept.get(key) == null || !shard.startFrom(key, job.sessionId(), job.reuseLength())) {
            failRemoved(job, Status.FAILED_PRECONDITION.withDescription(name + ": no cache is kept under prefix key "
                    + key + " (evicted, or never kept here): run the whole prompt"));
            return false;
        }
        try {
            shard.check(job.sessionId(), job.input());
        } catch (IllegalArgumentException e) {
            failRemoved(job, Status.INVALID_ARGUMENT.withDescription(name + ": " + e.getMessage()));
            return false;
        }
        return true;
    }

    /**
     * Frees kept caches, least recently used first, while there are more than --max-sessions of them or the budget
     * lacks {@code need} more bytes.
     */
    private void evictKept(long need) {
        long budget = limits.kvCacheBytes();
        Iterator<String> eldest = kept.keySet().iterator();
        while (eldest.hasNext() && (kept.size() > limits.maxSessions()
                || (budget > 0 && reservedBytes() + keptBytes + need > budget))) {
            String key = eldest.next();
            eldest.remove();
            keptBytes -= shard.dropKept(key);
        }
    }

    private void dropKept(String key) {
        if (kept.remove(key) != null) {
            keptBytes -= shard.dropKept(key);
        }
    }

    private void runStep() {
        if (running.isEmpty()) {
            return;
        }
        int chunk = Math.min(LlamaShard.CHUNK, limits.maxBatchTokens());
        List<J> step = new ArrayList<>();
        int rows = 0;
        for (int pass = 0; pass < 2; pass++) { // decodes (one row) first, then prompt chunks
            for (J job : running) {
                boolean decode = job.remaining() == 1;
                if ((pass == 0) != decode || step.size() >= limits.maxBatch()) {
                    continue;
                }
                int n = Math.min(chunk, job.remaining());
                if (!step.isEmpty() && rows + n > limits.maxBatchTokens()) {
                    continue;
                }
                step.add(job);
                rows += n;
            }
        }
        List<LlamaShard.StepPart> parts = new ArrayList<>(step.size());
        for (J job : step) {
            parts.add(new LlamaShard.StepPart(job.sessionId(), job.nextChunk(chunk)));
        }
        if (promptStepDelayMs > 0 && parts.stream().anyMatch(p -> p.input().length() > FaultInjection.PROMPT_ROWS)) {
            FaultInjection.pause(promptStepDelayMs);
        } else if (decodeStepDelayMs > 0 && parts.stream().allMatch(p -> p.input().length() == 1)) {
            FaultInjection.pause(decodeStepDelayMs);
        }
        List<ShardOutput> outputs;
        long started = System.nanoTime();
        try {
            outputs = shard.forwardBatch(parts);
        } catch (IllegalArgumentException e) {
            for (J job : step) {
                fail(job, Status.INVALID_ARGUMENT.withDescription(name + ": " + e.getMessage()));
            }
            return;
        }
        steps++;
        long now = System.nanoTime();
        observe(parts, now - started);
        List<J> done = new ArrayList<>();
        for (int i = 0; i < step.size(); i++) {
            J job = step.get(i);
            job.accept(outputs.get(i), parts.get(i).input().length());
            lastUsed.put(job.sessionId(), now);
            reserved.computeIfPresent(job.sessionId(), (s, r) -> Math.max(r, shard.sessionBytes(s)));
            if (job.remaining() == 0) {
                running.remove(job);
                busy.remove(job.sessionId());
                done.add(job);
            }
        }
        if (!done.isEmpty()) {
            finished.accept(done); // here, not on another thread: a hand-off per step costs a wake-up per hop
        }
    }

    /** Metrics of a step that ran, and of the node after it. */
    private void observe(List<LlamaShard.StepPart> parts, long nanos) {
        StepMetrics.STEP.observe(nanos / 1e9);
        StepMetrics.BATCH.observe(parts.size());
        for (LlamaShard.StepPart part : parts) {
            int n = part.input().length();
            StepMetrics.POSITIONS.labelValues(n == 1 ? "decode" : "prompt").inc(n);
        }
        StepMetrics.WAITING.set(waiting.size());
        observeMemory();
    }

    /** The sessions and KV memory gauges, after a step or a release. */
    private void observeMemory() {
        StepMetrics.SESSIONS.set(shard.activeSessions());
        StepMetrics.KV_BYTES.labelValues("sessions").set(shard.cacheBytes());
        StepMetrics.KV_BYTES.labelValues("kept").set(keptBytes);
        StepMetrics.KV_BYTES.labelValues("free").set(shard.freeKvBytes());
    }

    private void fail(J job, Status status) {
        waiting.remove(job);
        running.remove(job);
        failRemoved(job, status);
    }

    private void failRemoved(J job, Status status) {
        busy.remove(job.sessionId());
        releaseSession(job.sessionId());
        completions.execute(() -> job.failed(status));
    }

    private boolean releaseNow(String sessionId, String why) {
        for (J job : new ArrayList<>(waiting)) {
            if (job.sessionId().equals(sessionId)) {
                fail(job, Status.CANCELLED.withDescription(name + ": " + why));
            }
        }
        for (J job : new ArrayList<>(running)) {
            if (job.sessionId().equals(sessionId)) {
                fail(job, Status.CANCELLED.withDescription(name + ": " + why));
            }
        }
        return releaseSession(sessionId);
    }

    private boolean releaseSession(String sessionId) {
        boolean held = shard.sessionLength(sessionId) > 0;
        shard.release(sessionId);
        reserved.remove(sessionId);
        lastUsed.remove(sessionId);
        return held;
    }

    /** Stops after the step in progress: queued and running jobs fail with UNAVAILABLE. The shard stays open. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        completions.shutdown();
        try {
            completions.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
