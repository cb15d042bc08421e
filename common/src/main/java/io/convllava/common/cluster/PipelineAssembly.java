package io.convllava.common.cluster;

import java.util.List;

/**
 * The complete pipelines the live LLM nodes form, and how well the layers are covered.
 *
 * @param numLayers layers of the model the pipelines run
 * @param pipelines disjoint pipelines, fewest hops first
 * @param coverage  replicas per layer over all live LLM nodes with loaded layers
 */
public record PipelineAssembly(int numLayers, List<Pipeline> pipelines, LayerCoverage coverage) {
    public PipelineAssembly {
        pipelines = List.copyOf(pipelines);
    }

    public boolean hasPipeline() {
        return !pipelines.isEmpty();
    }
}
