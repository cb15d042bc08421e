package io.convllava.cli;

import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.schedule.BatchLimits;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/** How an llm node batches steps and lends KV memory (see {@link BatchLimits}). */
final class BatchOptions {
    @Option(names = "--max-batch", defaultValue = "" + BatchLimits.DEFAULT_MAX_BATCH, paramLabel = "N",
            description = "Sessions in one step, decodes and prompt chunks together (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-batch-tokens", defaultValue = "" + BatchLimits.DEFAULT_MAX_BATCH_TOKENS, paramLabel = "N",
            description = "Positions in one step; prompts run in chunks of at most this (and "
                    + LlamaShard.CHUNK + ") positions"
                    + " (default: ${DEFAULT-VALUE}).")
    int maxBatchTokens;

    @Option(names = "--kv-cache-bytes", defaultValue = "auto", paramLabel = "SIZE|auto",
            converter = KvBudgetConverter.class,
            description = "KV memory this node lends to sessions (e.g. 6GiB); a new session waits until its prompt"
                    + " plus max new tokens fit. auto: 70%% of the Java heap left after loading (CPU), unlimited on"
                    + " a GPU; 0: unlimited (default: ${DEFAULT-VALUE}).")
    long kvCacheBytes;

    @Option(names = "--max-sessions", defaultValue = "" + BatchLimits.DEFAULT_MAX_SESSIONS, paramLabel = "N",
            description = "Sessions holding a KV cache at once (default: ${DEFAULT-VALUE}).")
    int maxSessions;

    BatchLimits limits() {
        try {
            return new BatchLimits(maxBatch, maxBatchTokens, kvCacheBytes, maxSessions);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** A size, or {@code auto}. */
    static final class KvBudgetConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return value.trim().equalsIgnoreCase("auto") ? BatchLimits.AUTO_KV : new ByteSizeConverter().convert(value);
        }
    }
}
