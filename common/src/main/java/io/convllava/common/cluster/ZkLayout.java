package io.convllava.common.cluster;

import org.apache.curator.utils.ZKPaths;

/**
 * Where a cluster keeps its state in ZooKeeper. Several clusters can share one ZooKeeper ensemble; each lives under
 * its own name below {@value #ROOT}:
 *
 * <pre>
 * /convllava/&lt;cluster&gt;/
 *     members/&lt;nodeId&gt;   EPHEMERAL   NodeInfo JSON of one live node (vision, llm or coordinator); the znode goes
 *                                    away when the node's session ends, so membership = the children of members/
 *     plan                PERSISTENT  ShardPlan JSON {epoch, numLayers, assignments: {nodeId: {start, end}}};
 *                                    written only by the plan leader, compare-and-set on the znode version, the
 *                                    epoch grows by one with every write
 *     leader/             CONTAINER   LeaderLatch participants (EPHEMERAL_SEQUENTIAL) of the coordinators; the
 *                                    lowest sequence number is the plan leader
 * </pre>
 *
 * Node ids are single path segments (no {@code /}) and must be unique within a cluster.
 *
 * @param cluster the cluster name, one path segment
 */
public record ZkLayout(String cluster) {
    public static final String ROOT = "/convllava";

    public ZkLayout {
        cluster = requireSegment(cluster, "cluster name");
    }

    /** {@code /convllava/<cluster>}. */
    public String root() {
        return ZKPaths.makePath(ROOT, cluster);
    }

    /** {@code /convllava/<cluster>/members}: parent of the ephemeral member znodes. */
    public String members() {
        return ZKPaths.makePath(root(), "members");
    }

    /** {@code /convllava/<cluster>/members/<nodeId>}. */
    public String member(String nodeId) {
        return ZKPaths.makePath(members(), requireSegment(nodeId, "node id"));
    }

    /** {@code /convllava/<cluster>/plan}. */
    public String plan() {
        return ZKPaths.makePath(root(), "plan");
    }

    /** {@code /convllava/<cluster>/leader}: the LeaderLatch path of the coordinators. */
    public String leader() {
        return ZKPaths.makePath(root(), "leader");
    }

    static String requireSegment(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        if (value.contains("/") || value.equals(".") || value.equals("..")) {
            throw new IllegalArgumentException(what + " '" + value + "' must be a single path segment without '/'");
        }
        return value;
    }
}
