package io.convllava.common.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.convllava.common.cluster.Members.auto;
import static io.convllava.common.cluster.Members.loaded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipelineAssemblerTest {
    @Test
    void unevenRangesChainIntoOnePipeline() {
        PipelineAssembly a = PipelineAssembler.assemble(
                List.of(loaded("b", 32, 5, 32), loaded("a", 32, 0, 5)), 32);
        assertEquals(1, a.pipelines().size());
        assertEquals(List.of("a", "b"), a.pipelines().get(0).nodeIds());
        assertEquals("a[0-5) -> b[5-32)", a.pipelines().get(0).toString());
        assertEquals("0-32 x1", a.coverage().toString());
    }

    @Test
    void replicasFormDisjointPipelinesFewestHopsFirst() {
        PipelineAssembly a = PipelineAssembler.assemble(List.of(
                loaded("a", 32, 0, 16), loaded("b", 32, 16, 32), loaded("c", 32, 0, 32),
                loaded("d", 32, 0, 16), loaded("e", 32, 16, 32)), 32);
        assertEquals(List.of(List.of("c"), List.of("a", "b"), List.of("d", "e")),
                a.pipelines().stream().map(Pipeline::nodeIds).toList());
        assertEquals(3, a.coverage().minReplicas());
    }

    @Test
    void fewerHopsWinOverMoreStages() {
        PipelineAssembly a = PipelineAssembler.assemble(List.of(
                loaded("a", 32, 0, 8), loaded("b", 32, 8, 16), loaded("c", 32, 16, 32), loaded("d", 32, 8, 32)), 32);
        assertEquals(1, a.pipelines().size(), "a is in one pipeline only");
        assertEquals(List.of("a", "d"), a.pipelines().get(0).nodeIds());
        assertEquals("0-8 x1, 8-32 x2", a.coverage().toString());
    }

    @Test
    void missingLayersGiveNoPipelineAndAreReported() {
        PipelineAssembly a = PipelineAssembler.assemble(List.of(
                loaded("a", 32, 0, 10), loaded("b", 32, 12, 32), loaded("c", 32, 12, 20)), 32);
        assertFalse(a.hasPipeline());
        assertFalse(a.coverage().isComplete());
        assertEquals(List.of(new LayerRange(10, 12)), a.coverage().missing());
        assertEquals("0-10 x1, 10-12 missing, 12-20 x2, 20-32 x1", a.coverage().toString());
        assertEquals(0, a.coverage().minReplicas());
    }

    @Test
    void nodesWithoutLayersOrOfAnotherModelAreLeftOut() {
        PipelineAssembly a = PipelineAssembler.assemble(List.of(
                auto("loading", 4), loaded("other-model", 6, 0, 6), loaded("a", 4, 0, 4),
                NodeInfo.vision("v", "127.0.0.1", 7001, "tower", "cpu")), 4);
        assertEquals(List.of(List.of("a")), a.pipelines().stream().map(Pipeline::nodeIds).toList());
        assertEquals("0-4 x1", a.coverage().toString());
    }

    @Test
    void snapshotUsesThePlansLayerCount() {
        TreeMap<String, NodeInfo> members = new TreeMap<>(Map.of(
                "a", loaded("a", 4, 0, 2), "b", loaded("b", 4, 2, 4)));
        ShardPlan plan = new ShardPlan(1, 4, Map.of("a", new LayerRange(0, 2), "b", new LayerRange(2, 4)));
        PipelineAssembly a = PipelineAssembler.assemble(new ClusterSnapshot(1, true, members, plan));
        assertEquals(4, a.numLayers());
        assertTrue(a.hasPipeline());
        assertEquals("b", a.pipelines().get(0).last().nodeId());
    }

    @Test
    void emptyClusterHasNoPipelines() {
        PipelineAssembly a = PipelineAssembler.assemble(ClusterSnapshot.EMPTY);
        assertFalse(a.hasPipeline());
        assertEquals("no layers", a.coverage().toString());
    }
}
