package io.convllava.llm.model;

/**
 * The arithmetic of a shard's layers: its weights and a forward step over one session's cache. {@link CpuEngine}
 * keeps 16-bit weights and computes in Java on the CPU; {@link DjlEngine} runs libtorch (GPUs, and checkpoints that
 * are not stored in 16 bits). Not thread-safe: {@link LlamaShard} serialises calls.
 */
interface ShardEngine extends AutoCloseable {

    /** An empty cache for a new session. */
    Session newSession();

    /**
     * Runs the new positions of {@code input} (checked by the shard) through the layers, appending their keys and
     * values to the session's cache; the last shard returns the logits of the last new position, others the hidden
     * states of every new position.
     */
    ShardOutput forward(Session session, ShardInput input);

    @Override
    void close();

    /** One session's cache on this shard. */
    interface Session extends AutoCloseable {
        /** Positions cached: the position of the next new token. */
        int length();

        /** Bytes of KV memory held. */
        long bytes();

        @Override
        void close();
    }
}
