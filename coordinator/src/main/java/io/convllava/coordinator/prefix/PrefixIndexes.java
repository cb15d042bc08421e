package io.convllava.coordinator.prefix;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/** One {@link PrefixIndex} per pipeline (by its chain of node ids): what each pipeline keeps for this coordinator. */
public final class PrefixIndexes {
    /** Kept caches remembered per pipeline; the nodes' own limit (--max-sessions kept caches) usually bites first. */
    public static final int PER_PIPELINE = 256;

    private final ConcurrentHashMap<List<String>, PrefixIndex> indexes = new ConcurrentHashMap<>();

    public PrefixIndex of(List<String> pipelineNodeIds) {
        return indexes.computeIfAbsent(List.copyOf(pipelineNodeIds), k -> new PrefixIndex(PER_PIPELINE));
    }
}
