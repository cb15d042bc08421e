package io.convllava.common.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.convllava.common.cluster.Members.auto;
import static io.convllava.common.cluster.Members.fixed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardPlannerTest {
    private static LayerRange r(int start, int end) {
        return new LayerRange(start, end);
    }

    @Test
    void twoAutoNodesSplitFourLayers() {
        ShardPlan plan = ShardPlanner.plan(List.of(auto("b", 4), auto("a", 4)), ShardPlan.NONE);
        assertEquals(1, plan.epoch());
        assertEquals(4, plan.numLayers());
        assertEquals(Map.of("a", r(0, 2), "b", r(2, 4)), plan.assignments());
    }

    @Test
    void threeAutoNodesOnFourLayersGiveTheRemainderToTheFirst() {
        ShardPlan plan = ShardPlanner.plan(List.of(auto("a", 4), auto("b", 4), auto("c", 4)), ShardPlan.NONE);
        assertEquals(Map.of("a", r(0, 2), "b", r(2, 3), "c", r(3, 4)), plan.assignments());
    }

    @Test
    void thirtyTwoLayersOnThreeNodesLeaveNoGap() {
        ShardPlan plan = ShardPlanner.plan(List.of(auto("x", 32), auto("y", 32), auto("z", 32)), ShardPlan.NONE);
        assertEquals(Map.of("x", r(0, 11), "y", r(11, 22), "z", r(22, 32)), plan.assignments());
    }

    @Test
    void autoNodesBecomeAReplicaPipelineWhenFixedNodesCoverEverything() {
        ShardPlan plan = ShardPlanner.plan(
                List.of(fixed("f1", 4, 0, 1), fixed("f2", 4, 1, 4), auto("a", 4), auto("b", 4)), ShardPlan.NONE);
        assertEquals(Map.of("f1", r(0, 1), "f2", r(1, 4), "a", r(0, 2), "b", r(2, 4)), plan.assignments());
    }

    @Test
    void autoNodesFillWhatFixedNodesLeaveOpen() {
        ShardPlan plan = ShardPlanner.plan(List.of(fixed("f", 32, 0, 16), auto("a", 32), auto("b", 32)),
                ShardPlan.NONE);
        assertEquals(Map.of("f", r(0, 16), "a", r(16, 24), "b", r(24, 32)), plan.assignments());
    }

    @Test
    void gapsGetNodesInProportionToTheirLength() {
        // gaps [0,4) and [8,20): one node for the short gap, two for the long one
        ShardPlan plan = ShardPlanner.plan(
                List.of(fixed("f", 20, 4, 8), auto("a", 20), auto("b", 20), auto("c", 20)), ShardPlan.NONE);
        assertEquals(Map.of("f", r(4, 8), "a", r(0, 4), "b", r(8, 14), "c", r(14, 20)), plan.assignments());
    }

    @Test
    void overlappingFixedRangesAreCompletedWithTheFewestLayers() {
        ShardPlan plan = ShardPlanner.plan(List.of(fixed("f1", 20, 0, 10), fixed("f2", 20, 5, 20), auto("a", 20)),
                ShardPlan.NONE);
        assertEquals(r(0, 5), plan.assignments().get("a"));
    }

    @Test
    void oneAutoNodeBridgesSeveralGapsWhenThereAreTooFewNodes() {
        // gaps [0,4), [8,12), [16,20) but only one auto node: it must span from a gap to the end
        ShardPlan plan = ShardPlanner.plan(
                List.of(fixed("f1", 20, 4, 8), fixed("f2", 20, 12, 16), auto("a", 20)), ShardPlan.NONE);
        assertTrue(LayerChains.connects(plan.assignments().values(), 20), plan.toString());
        assertEquals(r(0, 20), plan.assignments().get("a"), "one gap of 20 layers is all one node can fill");
    }

    @Test
    void twoAutoNodesBridgeThreeGapsOverOneFixedRange() {
        ShardPlan plan = ShardPlanner.plan(
                List.of(fixed("f1", 20, 4, 8), fixed("f2", 20, 12, 16), auto("a", 20), auto("b", 20)),
                ShardPlan.NONE);
        assertTrue(LayerChains.connects(plan.assignments().values(), 20), plan.toString());
        assertEquals(16, plan.assignments().get("a").size() + plan.assignments().get("b").size(),
                "the 12 open layers plus one 4-layer fixed range bridged, nothing more: " + plan);
    }

    @Test
    void moreAutoNodesThanLayersFormSeveralPipelines() {
        List<NodeInfo> nodes = List.of(auto("a", 2), auto("b", 2), auto("c", 2), auto("d", 2), auto("e", 2));
        ShardPlan plan = ShardPlanner.plan(nodes, ShardPlan.NONE);
        assertEquals(5, plan.assignments().size());
        // a[0,1) b[1,2) | c[0,1) d[1,2) | e[0,2)
        assertEquals(3, PipelineAssembler.assemble(loadedAsPlanned(nodes, plan), 2).pipelines().size());
    }

    @Test
    void liveNodesKeepTheirRangesWhenANodeJoins() {
        ShardPlan first = ShardPlanner.plan(List.of(auto("a", 4), auto("b", 4)), ShardPlan.NONE);
        ShardPlan second = ShardPlanner.plan(List.of(auto("a", 4), auto("b", 4), auto("c", 4)), first);
        assertEquals(2, second.epoch());
        assertEquals(Map.of("a", r(0, 2), "b", r(2, 4), "c", r(0, 4)), second.assignments());
    }

    @Test
    void survivorsKeepTheirRangesWhenANewNodeReplacesALostOne() {
        ShardPlan before = new ShardPlan(7, 32, Map.of("a", r(0, 8), "b", r(8, 16), "c", r(16, 24), "d", r(24, 32)));
        ShardPlan after = ShardPlanner.plan(List.of(auto("a", 32), auto("b", 32), auto("e", 32)), before);
        assertEquals(8, after.epoch());
        assertEquals(Map.of("a", r(0, 8), "b", r(8, 16), "e", r(16, 32)), after.assignments());
    }

    @Test
    void everythingIsReplannedWhenTheSurvivorsCannotCloseTheGap() {
        ShardPlan before = new ShardPlan(3, 32, Map.of("a", r(0, 11), "b", r(11, 22), "c", r(22, 32)));
        ShardPlan after = ShardPlanner.plan(List.of(auto("a", 32), auto("b", 32)), before);
        assertEquals(Map.of("a", r(0, 16), "b", r(16, 32)), after.assignments());
    }

    @Test
    void advertisedLayersCountAsTheCurrentAssignmentWithoutAPreviousPlan() {
        ShardPlan plan = ShardPlanner.plan(
                List.of(Members.loaded("a", 4, 0, 3), Members.loaded("b", 4, 3, 4), auto("c", 4)), ShardPlan.NONE);
        assertEquals(Map.of("a", r(0, 3), "b", r(3, 4), "c", r(0, 4)), plan.assignments());
    }

    @Test
    void anUnchangedLayoutReturnsThePreviousPlan() {
        ShardPlan first = ShardPlanner.plan(List.of(auto("a", 4), auto("b", 4)), ShardPlan.NONE);
        assertSame(first, ShardPlanner.plan(List.of(auto("b", 4), auto("a", 4)), first));
    }

    @Test
    void otherRolesAndOtherModelsAreNotPlanned() {
        NodeInfo vision = NodeInfo.vision("v", "127.0.0.1", 7001, "tower", "cpu");
        NodeInfo coordinator = NodeInfo.coordinator("c", "127.0.0.1", 7002, "tiny");
        ShardPlan plan = ShardPlanner.plan(List.of(vision, coordinator, auto("a", 4), auto("b", 4), auto("odd", 6)),
                ShardPlan.NONE);
        assertEquals(4, plan.numLayers(), "the layer count most LLM nodes report");
        assertEquals(Map.of("a", r(0, 2), "b", r(2, 4)), plan.assignments());
    }

    @Test
    void fixedNodesThatDoNotChainAndNoAutoNodesGiveAPlanWithoutPipeline() {
        ShardPlan plan = ShardPlanner.plan(List.of(fixed("f1", 8, 0, 4), fixed("f2", 8, 5, 8)), ShardPlan.NONE);
        assertEquals(Map.of("f1", r(0, 4), "f2", r(5, 8)), plan.assignments());
    }

    @Test
    void allNodesLeavingEmptiesThePlan() {
        ShardPlan before = new ShardPlan(4, 4, Map.of("a", r(0, 4)));
        ShardPlan after = ShardPlanner.plan(List.of(), before);
        assertEquals(5, after.epoch());
        assertEquals(4, after.numLayers());
        assertTrue(after.assignments().isEmpty());
    }

    @Test
    void randomClustersAlwaysGetAPipelineDeterministically() {
        Random random = new Random(42);
        for (int trial = 0; trial < 500; trial++) {
            int numLayers = 1 + random.nextInt(40);
            List<NodeInfo> nodes = new ArrayList<>();
            int fixedCount = random.nextInt(4);
            for (int i = 0; i < fixedCount; i++) {
                int start = random.nextInt(numLayers);
                int end = start + 1 + random.nextInt(numLayers - start);
                nodes.add(fixed("f" + i, numLayers, start, end));
            }
            int autoCount = 1 + random.nextInt(6);
            for (int i = 0; i < autoCount; i++) {
                nodes.add(auto("a" + i, numLayers));
            }
            ShardPlan previous = random.nextBoolean()
                    ? ShardPlanner.plan(nodes.subList(0, nodes.size() - 1), ShardPlan.NONE)
                    : ShardPlan.NONE;
            ShardPlan plan = ShardPlanner.plan(nodes, previous);
            String context = "trial " + trial + ": " + nodes.size() + " nodes on " + numLayers + " layers -> " + plan;
            assertEquals(nodes.size(), plan.assignments().size(), context);
            assertTrue(LayerChains.connects(plan.assignments().values(), numLayers), context);
            List<NodeInfo> shuffled = new ArrayList<>(nodes);
            Collections.shuffle(shuffled, random);
            assertEquals(plan, ShardPlanner.plan(shuffled, previous), context);
        }
    }

    private static List<NodeInfo> loadedAsPlanned(List<NodeInfo> nodes, ShardPlan plan) {
        return nodes.stream().map(n -> n.withLayers(plan.assignments().get(n.nodeId()))).toList();
    }
}
