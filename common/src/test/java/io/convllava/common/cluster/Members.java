package io.convllava.common.cluster;

/** Test helper: member records without the noise. */
final class Members {
    private Members() {
    }

    static NodeInfo auto(String id, int numLayers) {
        return NodeInfo.llm(id, "127.0.0.1", 7000, "tiny", "cpu", numLayers, NodeInfo.AUTO);
    }

    static NodeInfo fixed(String id, int numLayers, int start, int end) {
        return NodeInfo.llm(id, "127.0.0.1", 7000, "tiny", "cpu", numLayers, start + "-" + end);
    }

    /** An LLM node ({@code auto}) that has loaded {@code [start, end)}. */
    static NodeInfo loaded(String id, int numLayers, int start, int end) {
        return auto(id, numLayers).withLayers(new LayerRange(start, end));
    }
}
