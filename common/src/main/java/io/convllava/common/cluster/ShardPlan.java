package io.convllava.common.cluster;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Which decoder layers each LLM node holds, as published by the plan leader in the {@code plan} znode.
 * Fixed-range nodes appear with their own range, {@code auto} nodes with the range the leader gave them.
 *
 * @param epoch       grows by one with every published plan; 0 = no plan published yet ({@link #NONE})
 * @param numLayers   decoder layers of the model the plan covers
 * @param assignments node id -> half-open layer range, sorted by node id
 */
public record ShardPlan(long epoch, int numLayers, SortedMap<String, LayerRange> assignments) {
    /** The plan before any has been published. */
    public static final ShardPlan NONE = new ShardPlan(0, 0, new TreeMap<>());

    public ShardPlan {
        if (epoch < 0 || numLayers < 0) {
            throw new IllegalArgumentException("plan epoch " + epoch + " and numLayers " + numLayers + " must be >= 0");
        }
        if (assignments == null) {
            throw new IllegalArgumentException("plan epoch " + epoch + ": assignments missing");
        }
        for (Map.Entry<String, LayerRange> e : assignments.entrySet()) {
            ZkLayout.requireSegment(e.getKey(), "plan epoch " + epoch + ": node id");
            if (e.getValue() == null || e.getValue().end() > numLayers) {
                throw new IllegalArgumentException("plan epoch " + epoch + ": node '" + e.getKey() + "' range "
                        + e.getValue() + " is not within the " + numLayers + " layers");
            }
        }
        assignments = Collections.unmodifiableSortedMap(new TreeMap<>(assignments));
    }

    public ShardPlan(long epoch, int numLayers, Map<String, LayerRange> assignments) {
        this(epoch, numLayers, assignments == null ? null : new TreeMap<>(assignments));
    }

    public boolean isPublished() {
        return epoch > 0;
    }

    public Optional<LayerRange> assignment(String nodeId) {
        return Optional.ofNullable(assignments.get(nodeId));
    }

    /** Same layers for the same nodes, whatever the epoch. */
    public boolean sameLayout(ShardPlan other) {
        return numLayers == other.numLayers && assignments.equals(other.assignments);
    }

    public byte[] toJson() {
        return Json.write(this);
    }

    /**
     * Parses and validates plan znode data.
     *
     * @param source where the data came from (a znode path), named in the error
     */
    public static ShardPlan fromJson(byte[] json, String source) {
        return Json.read(json, ShardPlan.class, source);
    }
}
