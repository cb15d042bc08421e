package io.convllava.common.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Finds the complete pipelines among live LLM nodes, by the layers each has loaded and advertises (not by the plan:
 * a node serves what it has loaded). Pure and deterministic.
 *
 * <p>Repeatedly takes the chain 0..numLayers with the fewest hops among nodes not yet used (ties: nodes in
 * (start, end, node id) order), so each node is in at most one pipeline.
 */
public final class PipelineAssembler {
    private static final Comparator<NodeInfo> ORDER = Comparator.comparingInt(NodeInfo::layerStart)
            .thenComparingInt(NodeInfo::layerEnd)
            .thenComparing(NodeInfo::nodeId);

    private PipelineAssembler() {
    }

    /** Pipelines for the snapshot's model: the plan's layer count, or the one most LLM members report. */
    public static PipelineAssembly assemble(ClusterSnapshot snapshot) {
        List<NodeInfo> llm = snapshot.members(NodeRole.LLM);
        int numLayers = snapshot.plan().isPublished()
                ? snapshot.plan().numLayers()
                : ShardPlanner.numLayersOf(llm, snapshot.plan());
        return assemble(llm, numLayers);
    }

    /** Pipelines over the LLM nodes among {@code members} whose model has {@code numLayers} layers. */
    public static PipelineAssembly assemble(Collection<NodeInfo> members, int numLayers) {
        List<NodeInfo> unused = new ArrayList<>(members.stream()
                .filter(m -> m.role() == NodeRole.LLM && m.numLayers() == numLayers && m.layers().isPresent())
                .sorted(ORDER)
                .toList());
        LayerCoverage coverage = LayerCoverage.of(
                unused.stream().map(n -> n.layers().orElseThrow()).toList(), numLayers);
        List<Pipeline> pipelines = new ArrayList<>();
        while (numLayers > 0) {
            List<NodeInfo> chain = fewestHops(unused, numLayers);
            if (chain.isEmpty()) {
                break;
            }
            pipelines.add(new Pipeline(chain));
            unused.removeAll(chain);
        }
        return new PipelineAssembly(numLayers, pipelines, coverage);
    }

    /** Breadth-first over layer positions; empty when no chain reaches {@code numLayers}. */
    private static List<NodeInfo> fewestHops(List<NodeInfo> nodes, int numLayers) {
        NodeInfo[] stepInto = new NodeInfo[numLayers + 1];
        boolean[] reached = new boolean[numLayers + 1];
        reached[0] = true;
        List<Integer> frontier = List.of(0);
        while (!frontier.isEmpty() && !reached[numLayers]) {
            List<Integer> next = new ArrayList<>();
            for (int pos : frontier) {
                for (NodeInfo n : nodes) {
                    if (n.layerStart() == pos && !reached[n.layerEnd()]) {
                        reached[n.layerEnd()] = true;
                        stepInto[n.layerEnd()] = n;
                        next.add(n.layerEnd());
                    }
                }
            }
            frontier = next;
        }
        List<NodeInfo> chain = new ArrayList<>();
        for (int pos = numLayers; reached[numLayers] && pos > 0; pos = stepInto[pos].layerStart()) {
            chain.add(0, stepInto[pos]);
        }
        return chain;
    }
}
