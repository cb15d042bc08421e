package io.convllava.common.cluster;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeInfoTest {
    @Test
    void jsonRoundTripKeepsEveryField() {
        NodeInfo info = NodeInfo.llm("llm-1", "10.0.0.5", 7100, "convllava-7b", "gpu", 32, "auto")
                .withLayers(new LayerRange(0, 16)).withLoad(3, 2);
        NodeInfo back = NodeInfo.fromJson(info.toJson(), "/convllava/c/members/llm-1");
        assertEquals(info, back);
        assertEquals(new LayerRange(0, 16), back.layers().orElseThrow());
        assertTrue(back.isAuto());
        assertEquals("10.0.0.5:7100", back.address());
    }

    @Test
    void eachNodeGetsItsOwnIncarnation() {
        assertNotEquals(NodeInfo.vision("v", "h", 1, "m", "cpu").incarnation(),
                NodeInfo.vision("v", "h", 1, "m", "cpu").incarnation());
    }

    @Test
    void fixedLayersAreHalfOpen() {
        NodeInfo info = Members.fixed("f", 32, 16, 32);
        assertEquals(new LayerRange(16, 32), info.fixedLayers().orElseThrow());
        assertEquals(16, info.fixedLayers().orElseThrow().size());
    }

    @Test
    void invalidFieldsAreNamed() {
        IllegalArgumentException past = assertThrows(IllegalArgumentException.class,
                () -> NodeInfo.llm("x", "h", 1, "m", "cpu", 32, "16-40"));
        assertEquals("node 'x': requestedLayers 16-40 go past the model's 32 layers", past.getMessage());
        IllegalArgumentException badRange = assertThrows(IllegalArgumentException.class,
                () -> NodeInfo.llm("x", "h", 1, "m", "cpu", 32, "first-half"));
        assertTrue(badRange.getMessage().startsWith("node 'x': requestedLayers: layer range 'first-half'"),
                badRange.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NodeInfo.vision("a/b", "h", 1, "m", "cpu"));
        IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
                () -> NodeInfo.coordinator("c", "h", 0, "m"));
        assertEquals("node 'c': port 0 must be in 1..65535", port.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> NodeInfo.vision("v", "h", 1, "m", "cpu").withLayers(new LayerRange(0, 1)));
    }

    @Test
    void badJsonNamesTheSourceAndTheField() {
        byte[] noRole = "{\"nodeId\":\"n\",\"incarnation\":\"i\",\"host\":\"h\",\"port\":1}"
                .getBytes(StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NodeInfo.fromJson(noRole, "/convllava/c/members/n"));
        assertEquals("/convllava/c/members/n: node 'n': role must be one of VISION, LLM, COORDINATOR",
                e.getMessage());
        IllegalArgumentException garbage = assertThrows(IllegalArgumentException.class,
                () -> NodeInfo.fromJson("{not json".getBytes(StandardCharsets.UTF_8), "/p"));
        assertTrue(garbage.getMessage().startsWith("/p is not valid JSON"), garbage.getMessage());
    }

    @Test
    void planJsonRoundTripAndValidation() {
        ShardPlan plan = new ShardPlan(3, 4, Map.of("b", new LayerRange(2, 4), "a", new LayerRange(0, 2)));
        ShardPlan back = ShardPlan.fromJson(plan.toJson(), "/plan");
        assertEquals(plan, back);
        assertEquals("a", back.assignments().firstKey());
        byte[] tooLong = "{\"epoch\":1,\"numLayers\":4,\"assignments\":{\"a\":{\"start\":0,\"end\":5}}}"
                .getBytes(StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ShardPlan.fromJson(tooLong, "/plan"));
        assertEquals("/plan: plan epoch 1: node 'a' range 0-5 is not within the 4 layers", e.getMessage());
    }

    @Test
    void layerRangeParsing() {
        assertEquals(new LayerRange(0, 16), LayerRange.parse(" 0-16 "));
        assertEquals("0-16", new LayerRange(0, 16).toString());
        assertThrows(IllegalArgumentException.class, () -> LayerRange.parse("5-5"));
        assertThrows(IllegalArgumentException.class, () -> LayerRange.parse("7"));
        assertThrows(IllegalArgumentException.class, () -> LayerRange.parse("-1-3"));
    }

    @Test
    void layoutPaths() {
        ZkLayout layout = new ZkLayout("prod");
        assertEquals("/convllava/prod/members/llm-1", layout.member("llm-1"));
        assertEquals("/convllava/prod/plan", layout.plan());
        assertEquals("/convllava/prod/leader", layout.leader());
        assertThrows(IllegalArgumentException.class, () -> new ZkLayout("a/b"));
        assertThrows(IllegalArgumentException.class, () -> layout.member(""));
    }
}
