package io.convllava.coordinator.server;

import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.Pipeline;
import io.convllava.common.pipeline.DecoderPipeline;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.routing.Router;
import io.convllava.llm.server.RemotePipeline;
import io.convllava.proto.v1.LayerRange;
import io.convllava.proto.v1.StageAddress;

import java.util.List;

/** The llm nodes of a routed pipeline as a {@link DecoderPipeline}: calls go to the first stage, which chains on. */
final class RemotePipelines {
    private RemotePipelines() {
    }

    static DecoderPipeline over(Pipeline pipeline, Router router, TransportOptions transport) {
        List<StageAddress> downstream = pipeline.stages().subList(1, pipeline.hops()).stream()
                .map(RemotePipelines::address).toList();
        return new RemotePipeline(router.channel(pipeline.first()), downstream, transport);
    }

    private static StageAddress address(NodeInfo node) {
        return StageAddress.newBuilder().setNodeId(node.nodeId()).setAddress(node.address())
                .setLayers(LayerRange.newBuilder().setStart(node.layerStart()).setEnd(node.layerEnd())).build();
    }
}
