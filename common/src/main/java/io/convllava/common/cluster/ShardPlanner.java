package io.convllava.common.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Computes the shard plan from the live LLM members: a pure, deterministic function (members are taken in node id
 * order).
 *
 * <ul>
 *   <li>Fixed-range nodes keep their range.</li>
 *   <li>{@code auto} nodes keep the range they already have (from the previous plan, else the layers they
 *       advertise) when that still leaves a complete pipeline, so live nodes do not reload; only new auto nodes get
 *       ranges then. Otherwise all auto nodes are planned afresh.</li>
 *   <li>When the kept ranges already form a complete pipeline {@code 0..numLayers}, new auto nodes form additional
 *       pipelines (replicas) that split the layers as evenly as possible.</li>
 *   <li>When they do not, the auto nodes fill what is missing: the completion that loads the fewest layers onto
 *       auto nodes (then: the fewest hops) is chosen, and its gaps are split evenly over the auto nodes, more nodes
 *       to longer gaps. Nodes left over once every auto node holds a single layer form replica pipelines.</li>
 *   <li>Even splits give the first nodes one layer more when the layers do not divide; no layer is ever dropped.</li>
 * </ul>
 */
public final class ShardPlanner {
    private ShardPlanner() {
    }

    /** {@link #plan(Collection, int, ShardPlan)} with the layer count from {@link #numLayersOf}. */
    public static ShardPlan plan(Collection<NodeInfo> members, ShardPlan previous) {
        return plan(members, numLayersOf(members, previous), previous);
    }

    /**
     * The next plan for these members.
     *
     * @param members   cluster members; only LLM nodes whose model has {@code numLayers} layers are planned
     * @param previous  the plan in force ({@link ShardPlan#NONE} if none)
     * @return {@code previous} itself when nothing changes, else a plan with epoch {@code previous.epoch() + 1}
     */
    public static ShardPlan plan(Collection<NodeInfo> members, int numLayers, ShardPlan previous) {
        SortedMap<String, LayerRange> assignments = numLayers > 0
                ? assign(llmNodes(members, numLayers), numLayers, previous)
                : new TreeMap<>();
        ShardPlan next = new ShardPlan(previous.epoch() + 1, numLayers, assignments);
        return next.sameLayout(previous) ? previous : next;
    }

    /**
     * The layer count to plan for: the one most LLM members report (a tie goes to the previous plan's, else the
     * smallest); the previous plan's when there are no LLM members.
     */
    public static int numLayersOf(Collection<NodeInfo> members, ShardPlan previous) {
        Map<Integer, Integer> votes = new HashMap<>();
        for (NodeInfo m : members) {
            if (m.role() == NodeRole.LLM) {
                votes.merge(m.numLayers(), 1, Integer::sum);
            }
        }
        return votes.entrySet().stream()
                .max(Comparator.<Map.Entry<Integer, Integer>>comparingInt(Map.Entry::getValue)
                        .thenComparing(e -> e.getKey() == previous.numLayers())
                        .thenComparing(Map.Entry::getKey, Comparator.reverseOrder()))
                .map(Map.Entry::getKey)
                .orElse(previous.numLayers());
    }

    private static List<NodeInfo> llmNodes(Collection<NodeInfo> members, int numLayers) {
        return members.stream()
                .filter(m -> m.role() == NodeRole.LLM && m.numLayers() == numLayers)
                .sorted(Comparator.comparing(NodeInfo::nodeId))
                .toList();
    }

    private static SortedMap<String, LayerRange> assign(List<NodeInfo> llm, int numLayers, ShardPlan previous) {
        SortedMap<String, LayerRange> fixed = new TreeMap<>();
        SortedMap<String, LayerRange> kept = new TreeMap<>();
        List<String> auto = new ArrayList<>();
        List<String> fresh = new ArrayList<>();
        for (NodeInfo node : llm) {
            if (node.fixedLayers().isPresent()) {
                fixed.put(node.nodeId(), node.fixedLayers().get());
                continue;
            }
            auto.add(node.nodeId());
            Optional<LayerRange> current = previous.numLayers() == numLayers
                    ? previous.assignment(node.nodeId()).or(node::layers)
                    : node.layers();
            if (current.isPresent()) {
                kept.put(node.nodeId(), current.get());
            } else {
                fresh.add(node.nodeId());
            }
        }
        SortedMap<String, LayerRange> keeping = new TreeMap<>(fixed);
        keeping.putAll(kept);
        keeping = fill(keeping, fresh, numLayers);
        if (kept.isEmpty() || LayerChains.connects(keeping.values(), numLayers)) {
            return keeping;
        }
        SortedMap<String, LayerRange> replanned = fill(fixed, auto, numLayers);
        return LayerChains.connects(replanned.values(), numLayers) ? replanned : keeping;
    }

    /** {@code base} plus ranges for {@code autoIds} (in that order). */
    private static SortedMap<String, LayerRange> fill(SortedMap<String, LayerRange> base, List<String> autoIds,
                                                      int numLayers) {
        SortedMap<String, LayerRange> result = new TreeMap<>(base);
        if (autoIds.isEmpty()) {
            return result;
        }
        if (LayerChains.connects(base.values(), numLayers)) {
            addReplicaPipelines(autoIds, numLayers, result);
            return result;
        }
        List<LayerRange> gaps = LayerChains.cheapestCompletion(base.values(), numLayers, autoIds.size());
        int[] nodesPerGap = spread(gaps, autoIds.size());
        int next = 0;
        for (int g = 0; g < gaps.size(); g++) {
            for (LayerRange part : split(gaps.get(g), nodesPerGap[g])) {
                result.put(autoIds.get(next++), part);
            }
        }
        addReplicaPipelines(autoIds.subList(next, autoIds.size()), numLayers, result);
        return result;
    }

    /** As few pipelines as possible (a node holds at least one layer), nodes spread evenly over them. */
    private static void addReplicaPipelines(List<String> ids, int numLayers, Map<String, LayerRange> out) {
        if (ids.isEmpty()) {
            return;
        }
        int pipelines = (ids.size() + numLayers - 1) / numLayers;
        int next = 0;
        for (int count : evenParts(ids.size(), pipelines)) {
            for (LayerRange part : split(new LayerRange(0, numLayers), count)) {
                out.put(ids.get(next++), part);
            }
        }
    }

    /** One node per gap, then each further node to the gap with the most layers per node, none past one layer. */
    private static int[] spread(List<LayerRange> gaps, int nodes) {
        int[] counts = new int[gaps.size()];
        Arrays.fill(counts, 1);
        for (int left = nodes - gaps.size(); left > 0; left--) {
            int best = -1;
            for (int g = 0; g < gaps.size(); g++) {
                boolean hasRoom = counts[g] < gaps.get(g).size();
                // size_g / count_g > size_best / count_best, compared without division
                if (hasRoom && (best < 0
                        || (long) gaps.get(g).size() * counts[best] > (long) gaps.get(best).size() * counts[g])) {
                    best = g;
                }
            }
            if (best < 0) {
                break;
            }
            counts[best]++;
        }
        return counts;
    }

    /** {@code range} cut into {@code parts} contiguous pieces whose sizes differ by at most one, larger first. */
    static List<LayerRange> split(LayerRange range, int parts) {
        List<LayerRange> pieces = new ArrayList<>(parts);
        int start = range.start();
        for (int size : evenParts(range.size(), parts)) {
            pieces.add(new LayerRange(start, start + size));
            start += size;
        }
        return pieces;
    }

    private static int[] evenParts(int total, int parts) {
        int[] sizes = new int[parts];
        for (int i = 0; i < parts; i++) {
            sizes[i] = total / parts + (i < total % parts ? 1 : 0);
        }
        return sizes;
    }
}
