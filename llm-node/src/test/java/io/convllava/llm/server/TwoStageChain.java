package io.convllava.llm.server;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.ChannelPool;
import io.convllava.common.transport.TransportOptions;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.LoadProgress;

import java.io.IOException;
import java.util.function.Function;

/** The tiny fixture's layers [0, 2) and [2, 4) served by two llm nodes on loopback, and channels to reach them. */
record TwoStageChain(LlmConfig config, LlamaShard first, LlamaShard last, LlmNodeServer firstNode,
                     LlmNodeServer lastNode, ChannelPool channels) implements AutoCloseable {

    /** Each node's settings are made from its loaded shard (say, a KV budget in positions of that shard). */
    static TwoStageChain start(Function<LlamaShard, LlmNodeSettings> firstSettings,
                               Function<LlamaShard, LlmNodeSettings> lastSettings) throws IOException {
        ModelFiles files = ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null);
        LlmConfig config = files.llmConfig();
        LlamaShard first;
        LlamaShard last;
        try (TensorSource weights = files.openLlmWeights()) {
            first = LlamaShard.load(config, weights, 0, 2, "cpu", LoadProgress.silent());
            last = LlamaShard.load(config, weights, 2, 4, "cpu", LoadProgress.silent());
        }
        LlmNodeServer firstNode = LlmNodeServer.start("127.0.0.1", 0, first, config, TransportOptions.DEFAULTS,
                firstSettings.apply(first));
        LlmNodeServer lastNode = LlmNodeServer.start("127.0.0.1", 0, last, config, TransportOptions.DEFAULTS,
                lastSettings.apply(last));
        return new TwoStageChain(config, first, last, firstNode, lastNode, new ChannelPool(TransportOptions.DEFAULTS));
    }

    @Override
    public void close() {
        channels.close();
        firstNode.close();
        lastNode.close();
        first.close();
        last.close();
    }
}
