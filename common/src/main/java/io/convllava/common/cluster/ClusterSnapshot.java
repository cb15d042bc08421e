package io.convllava.common.cluster;

import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable view of the cluster at one moment.
 *
 * @param version   grows with every change a {@link ClusterView} publishes
 * @param connected false while the ZooKeeper connection is suspended or lost: the data may be stale then
 * @param members   live members by node id
 * @param plan      the published shard plan, {@link ShardPlan#NONE} before the first
 */
public record ClusterSnapshot(long version, boolean connected, SortedMap<String, NodeInfo> members, ShardPlan plan) {
    public static final ClusterSnapshot EMPTY = new ClusterSnapshot(0, false, new TreeMap<>(), ShardPlan.NONE);

    public ClusterSnapshot {
        members = Collections.unmodifiableSortedMap(new TreeMap<>(members));
    }

    /** Members with this role, by node id. */
    public List<NodeInfo> members(NodeRole role) {
        return members.values().stream().filter(m -> m.role() == role).toList();
    }

    public Optional<NodeInfo> member(String nodeId) {
        return Optional.ofNullable(members.get(nodeId));
    }

    /** Same members, plan and connection state, whatever the version. */
    boolean sameContent(ClusterSnapshot other) {
        return connected == other.connected && members.equals(other.members) && plan.equals(other.plan);
    }

    ClusterSnapshot next(boolean connected, SortedMap<String, NodeInfo> members, ShardPlan plan) {
        return new ClusterSnapshot(version + 1, connected, members, plan);
    }
}
