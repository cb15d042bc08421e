package io.convllava.cli;

import io.convllava.common.transport.BearerTokens;
import io.convllava.coordinator.httpapi.HttpApiConfig;
import io.convllava.coordinator.server.CoordinatorConfig;
import io.convllava.coordinator.server.CoordinatorServer;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.common.metrics.MetricsEndpoint;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code convllava coordinator}: the public API of a cluster, until SIGINT or SIGTERM. */
@Command(name = "coordinator", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve the public ConvLlava API: tokenize, route to vision and llm nodes, stream answers."
                + " The coordinators also elect the plan leader, which assigns layers to --layers auto nodes.")
final class CoordinatorCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Mixin
    NodeOptions node;

    @Mixin
    ModelOptions model;

    @Option(names = "--plan-settle-ms", defaultValue = "500", paramLabel = "MS", description = "Quiet time after a"
            + " membership change before the plan leader plans again, so that nodes starting together are planned"
            + " together (default: ${DEFAULT-VALUE}).")
    long planSettleMs;

    @Option(names = "--canary-interval", defaultValue = "30s", paramLabel = "DURATION",
            converter = DurationConverter.class, description = "How often a one-token canary generation checks that"
            + " the cluster computes; while the latest failed, this coordinator's health is NOT_SERVING. 0 = never"
            + " (default: ${DEFAULT-VALUE}).")
    Duration canaryInterval;

    @Option(names = "--token-file", paramLabel = "FILE", description = "Bearer tokens the public API requires,"
            + " one per line; callers send 'authorization: Bearer <token>'.")
    Path tokenFile;

    @Option(names = "--port", defaultValue = "" + CoordinatorConfig.DEFAULT_PORT, paramLabel = "PORT",
            description = "Public gRPC port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--http-port", paramLabel = "PORT", description = "Also serve the OpenAI-compatible HTTP API"
            + " (POST /v1/chat/completions, GET /v1/models, GET /v1/cluster) on this port, with the same tokens, and"
            + " HTTPS with --tls-cert; the web chat page at / and the cluster page at /cluster; 0 picks a free one"
            + " (default: off).")
    Integer httpPort;

    @Option(names = "--allow-image-urls", description = "Let HTTP requests name images by http(s) URL, which the"
            + " coordinator downloads (at most 32 MiB, within 20 s); off, images come inline as data URLs. On, callers"
            + " can make the coordinator fetch any address it reaches.")
    boolean allowImageUrls;

    @Option(names = "--max-concurrent", defaultValue = "64", paramLabel = "N",
            description = "Requests generating at once (default: ${DEFAULT-VALUE}).")
    int maxConcurrent;

    @Option(names = "--max-queued", defaultValue = "128", paramLabel = "N",
            description = "Requests waiting beyond those; more get RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
    int maxQueued;

    @Option(names = "--max-prompt-tokens", paramLabel = "N", description = "Longest prompt accepted, image tokens"
            + " included, up to the model's max_position_embeddings (default: its tokenizer_model_max_length, the"
            + " length it was trained on).")
    Integer maxPromptTokens;

    @Option(names = "--no-prefix-reuse", description = "Compute every prompt in full instead of continuing from the KV"
            + " caches earlier requests kept on their pipeline: seeded sampled answers then never depend on what was"
            + " asked before (a reused cache changes the logits in their last bits).")
    boolean noPrefixReuse;

    @Option(names = "--embedding-cache-mb", defaultValue = "64", paramLabel = "MIB", description = "Keep the"
            + " embeddings of recently encoded images up to this size, so that a next turn about the same picture (or"
            + " many users asking about one) does not send it to a vision node again; 0 = off (default:"
            + " ${DEFAULT-VALUE}).")
    long embeddingCacheMb;

    @Override
    public Integer call() throws Exception {
        if (maxConcurrent < 1 || maxQueued < 0) {
            throw new UsageException("--max-concurrent must be >= 1 and --max-queued >= 0, got " + maxConcurrent
                    + " and " + maxQueued);
        }
        if (embeddingCacheMb < 0) {
            throw new UsageException("--embedding-cache-mb must be >= 0, got " + embeddingCacheMb);
        }
        ServedModel served = ServedModel.load(model.id(node.modelId), model.files());
        if (maxPromptTokens != null) {
            try {
                served = served.withMaxPromptTokens(maxPromptTokens);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--max-prompt-tokens: " + e.getMessage());
            }
        }
        if (planSettleMs < 0) {
            throw new UsageException("--plan-settle-ms must be >= 0, got " + planSettleMs);
        }
        CoordinatorConfig config = CoordinatorConfig.defaults(node.nodeId, node.host, port)
                .withLimits(maxConcurrent, maxQueued).withPrefixReuse(!noPrefixReuse).withTransport(node.transport(main.err()))
                .withPlanSettleDelay(Duration.ofMillis(planSettleMs)).withCanaryInterval(canaryInterval)
                .withEmbeddingCache(embeddingCacheMb << 20);
        if (httpPort != null) {
            try {
                config = config.withHttp(HttpApiConfig.onPort(httpPort).withImageUrls(allowImageUrls));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--http-port: " + e.getMessage());
            }
        } else if (allowImageUrls) {
            throw new UsageException("--allow-image-urls is about the HTTP API: give --http-port too");
        }
        if (tokenFile != null) {
            try {
                config = config.withTokens(BearerTokens.load(tokenFile));
            } catch (IOException | IllegalArgumentException e) {
                throw new UsageException("--token-file " + tokenFile + ": " + e.getMessage());
            }
        } else {
            main.err().println("warning: the public API takes calls without a token (development only): give"
                    + " --token-file");
        }
        try (MetricsEndpoint metrics = node.startMetrics(main.err());
             CuratorFramework zk = node.connect(main.err());
             CoordinatorServer server = CoordinatorServer.start(served, config, zk, node.layout())) {
            server.stopOnJvmShutdown();
            main.announceReady("coordinator", server.nodeId(), "coordinator ready at " + server.address()
                    + " (model " + served.id() + ")"
                    + (server.httpUrl() == null ? "" : "; HTTP API at " + server.httpUrl() + "/v1"));
            server.blockUntilShutdown();
        }
        return 0;
    }
}
