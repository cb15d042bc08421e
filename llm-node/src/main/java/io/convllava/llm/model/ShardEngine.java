package io.convllava.llm.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The arithmetic of a shard's layers: its weights and a forward step over one session's cache. {@link CpuEngine}
 * keeps 16-bit weights and computes in Java on the CPU; {@link DjlEngine} runs libtorch (GPUs, and checkpoints that
 * are not stored in 16 bits). Not thread-safe: {@link LlamaShard} serialises calls.
 */
interface ShardEngine extends AutoCloseable {

    /** An empty cache for a new session. */
    Session newSession();

    /** Bytes of KV memory that ended sessions left allocated for the next ones (0: freed when they end). */
    default long freeKvBytes() {
        return 0;
    }

    /**
     * Runs the new positions of {@code input} (checked by the shard) through the layers, appending their keys and
     * values to the session's cache; the last shard returns the logits of the last new position, others the hidden
     * states of every new position.
     */
    ShardOutput forward(Session session, ShardInput input);

    /**
     * One step over several sessions' inputs (a session at most once): outputs in the order of {@code parts}, each
     * as {@link #forward(Session, ShardInput)} would give it. This default runs them one after another; an engine
     * that can share the weight products of a step overrides it.
     */
    default List<ShardOutput> forward(List<Part> parts) {
        List<ShardOutput> outputs = new ArrayList<>(parts.size());
        for (Part part : parts) {
            outputs.add(forward(part.session(), part.input()));
        }
        return outputs;
    }

    @Override
    void close();

    /** One session's input in a batched step. */
    record Part(Session session, ShardInput input) {
    }

    /** One session's cache on this shard. */
    interface Session extends AutoCloseable {
        /** Positions cached: the position of the next new token. */
        int length();

        /** Bytes of KV memory held. */
        long bytes();

        /** Forgets the positions from {@code length} on (0 <= length <= length()), to continue from there. */
        void truncate(int length);

        /** A new session holding a copy of the first {@code length} positions (0 <= length <= length()). */
        Session copy(int length);

        @Override
        void close();
    }
}
