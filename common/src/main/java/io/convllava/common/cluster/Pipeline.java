package io.convllava.common.cluster;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A chain of LLM nodes whose loaded layer ranges run contiguously from layer 0 to the last layer; a request's hidden
 * states go through the stages in order.
 *
 * @param stages nodes in layer order, each with its layers loaded
 */
public record Pipeline(List<NodeInfo> stages) {
    public Pipeline {
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("a pipeline needs at least one stage");
        }
        stages = List.copyOf(stages);
    }

    public int hops() {
        return stages.size();
    }

    public List<String> nodeIds() {
        return stages.stream().map(NodeInfo::nodeId).toList();
    }

    public NodeInfo first() {
        return stages.get(0);
    }

    public NodeInfo last() {
        return stages.get(stages.size() - 1);
    }

    /** E.g. {@code llm-a[0-16) -> llm-b[16-32)}. */
    @Override
    public String toString() {
        return stages.stream()
                .map(n -> n.nodeId() + "[" + n.layerStart() + "-" + n.layerEnd() + ")")
                .collect(Collectors.joining(" -> "));
    }
}
