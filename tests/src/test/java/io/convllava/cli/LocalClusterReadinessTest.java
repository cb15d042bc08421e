package io.convllava.cli;

import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.NodeStatus;
import io.convllava.proto.v1.Pipeline;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What makes a local cluster ready: its own coordinator's status with every layer covered. In this package for
 * the package-private predicate; the multi-process paths are in {@code io.convllava.tests.LocalClusterProcessTest}.
 */
class LocalClusterReadinessTest {
    private static final ClusterStatus READY = ClusterStatus.newBuilder()
            .setCoordinatorId("coordinator-ours")
            .setNumLayers(4)
            .setLayersCovered(true)
            .addPipelines(Pipeline.newBuilder().addNodeIds("llm-0").addNodeIds("llm-1"))
            .addNodes(NodeStatus.newBuilder().setId("vision-0").setRole(NodeStatus.Role.VISION))
            .build();

    @Test
    void readyWhenItsOwnCoordinatorSeesEverything() {
        assertEquals(Optional.empty(), LocalCluster.missing(READY, "coordinator-ours", 1));
    }

    @Test
    void anotherClustersCoordinatorNeverMakesItReady() {
        ClusterStatus foreign = READY.toBuilder().setCoordinatorId("coordinator-theirs").build();
        Optional<String> missing = LocalCluster.missing(foreign, "coordinator-ours", 1);
        assertTrue(missing.isPresent() && missing.get().contains("coordinator-theirs"), missing.toString());
        assertTrue(LocalCluster.missing(READY.toBuilder().clearCoordinatorId().build(), "coordinator-ours", 1)
                .isPresent(), "a coordinator that does not say who it is is not ours");
    }

    @Test
    void notReadyWhileVisionNodesOrLayersAreMissing() {
        assertTrue(LocalCluster.missing(READY, "coordinator-ours", 2).isPresent());
        assertTrue(LocalCluster.missing(READY.toBuilder().setLayersCovered(false).build(), "coordinator-ours", 1)
                .isPresent());
    }
}
