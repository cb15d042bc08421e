package io.convllava.cli;

import io.convllava.common.cluster.ClusterSnapshot;
import io.convllava.common.cluster.ClusterView;
import io.convllava.common.cluster.LayerCoverage;
import io.convllava.common.cluster.PipelineAssembler;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.server.CoordinatorService;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.NodeStatus;
import io.grpc.ManagedChannel;
import org.apache.curator.framework.CuratorFramework;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code convllava status}: the nodes of a cluster, read from ZooKeeper ({@code --zk}) or asked of a coordinator
 * ({@code --target}), and whether their layers cover the model, with replica counts. Exit code 0 when a complete
 * pipeline exists, 3 when not.
 */
final class StatusCommand {
    static final int NOT_COVERED = 3;
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private StatusCommand() {
    }

    static int run(Options o, PrintStream out) throws Exception {
        ClusterStatus status;
        if (o.has("target")) {
            status = fromCoordinator(o.get("target"));
        } else if (o.has("zk")) {
            status = fromZooKeeper(o);
        } else {
            throw new Options.UsageException("status needs --zk host:port or --target host:port");
        }
        print(status, out);
        return status.getPipelinesCount() > 0 ? 0 : NOT_COVERED;
    }

    private static ClusterStatus fromCoordinator(String target) {
        ManagedChannel channel = Channels.forAddress(target, TransportOptions.DEFAULTS);
        try {
            return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow();
        }
    }

    private static ClusterStatus fromZooKeeper(Options o) throws Exception {
        try (CuratorFramework zk = NodeFlags.zk(o); ClusterView view = new ClusterView(zk, NodeFlags.layout(o))) {
            view.start();
            if (!view.awaitInitialized(TIMEOUT)) {
                throw new IllegalStateException("could not read cluster '" + o.get("cluster", NodeFlags.DEFAULT_CLUSTER)
                        + "' from ZooKeeper at " + o.get("zk") + " within " + TIMEOUT.toSeconds() + " s");
            }
            ClusterSnapshot snapshot = view.snapshot();
            return CoordinatorService.clusterStatus(snapshot, PipelineAssembler.assemble(snapshot));
        }
    }

    static void print(ClusterStatus s, PrintStream out) {
        String row = "%-28s %-11s %-22s %-7s %-6s %-5s %s%n";
        out.printf(row, "NODE", "ROLE", "ADDRESS", "LAYERS", "DEVICE", "LOAD", "HEALTHY");
        for (NodeStatus n : s.getNodesList()) {
            String layers = n.hasLayers() ? n.getLayers().getStart() + "-" + n.getLayers().getEnd()
                    : n.getRole() == NodeStatus.Role.LLM ? "loading" : "-";
            out.printf(row, n.getId(), n.getRole(), n.getAddress(), layers, n.getDevice().isEmpty() ? "-" : n.getDevice(),
                    String.format("%.0f", n.getLoad()), n.getHealthy() ? "yes" : "no");
        }
        if (s.getNumLayers() == 0) {
            out.println("layers: NOT covered (no llm node has registered, so the layer count is unknown)");
        } else {
            out.printf("layers 0-%d: %s (%s)%n", s.getNumLayers(), s.getLayersCovered() ? "covered" : "NOT covered",
                    new LayerCoverage(s.getLayerReplicasList()));
        }
        out.printf("pipelines: %d%n", s.getPipelinesCount());
        s.getPipelinesList().forEach(p -> out.println("  " + String.join(" -> ", p.getNodeIdsList())));
        out.printf("plan epoch: %d%n", s.getPlanEpoch());
    }
}
