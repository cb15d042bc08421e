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
import io.grpc.StatusRuntimeException;
import io.convllava.common.cluster.Zk;
import io.convllava.common.cluster.ZkAccessException;
import io.convllava.common.cluster.ZkAuth;
import io.convllava.common.cluster.ZkLayout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import org.apache.curator.framework.CuratorFramework;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code convllava status}: the nodes of a cluster, read from ZooKeeper ({@code --zk}) or asked of a coordinator
 * ({@code --target}), and whether their layers cover the model, with replica counts. Exit code 0 when a complete
 * pipeline exists, 3 when not.
 */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Nodes of a cluster, whether their layers cover the model, replicas and load, read from"
                + " ZooKeeper (--zk) or asked of a coordinator (--target).",
                "Exit code 0 when a complete pipeline exists, 3 when not."})
final class StatusCommand implements Callable<Integer> {
    static final int NOT_COVERED = 3;
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @ParentCommand
    private Main main;

    @Option(names = "--target", paramLabel = "HOST:PORT", description = "A coordinator to ask.")
    String target;

    @Option(names = "--zk", paramLabel = "HOST:PORT", description = "ZooKeeper to read the cluster from.")
    String zk;

    @Option(names = "--cluster", defaultValue = "default", paramLabel = "NAME",
            description = "Cluster name, with --zk (default: ${DEFAULT-VALUE}).")
    String cluster;

    @Option(names = "--zk-auth-file", paramLabel = "FILE",
            description = "With --zk: file holding the cluster's ZooKeeper credential, one line user:password;"
                    + " needed to read a cluster whose nodes run with --zk-auth-file.")
    Path zkAuthFile;

    @Override
    public Integer call() throws Exception {
        if ((target == null) == (zk == null)) {
            throw new UsageException("give either --zk host:port or --target host:port");
        }
        ClusterStatus status = target != null ? fromCoordinator() : fromZooKeeper();
        print(status, main.out());
        return status.getPipelinesCount() > 0 ? 0 : NOT_COVERED;
    }

    private ClusterStatus fromCoordinator() {
        ManagedChannel channel = Channels.forAddress(target, TransportOptions.DEFAULTS);
        try {
            return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            throw new CommandFailedException(RemoteCallErrors.describe(e, "the coordinator", target));
        } finally {
            channel.shutdownNow();
        }
    }

    private ClusterStatus fromZooKeeper() throws Exception {
        ZkAuth auth = NodeOptions.zkAuth(zkAuthFile);
        ZkLayout layout = new ZkLayout(cluster);
        try (CuratorFramework client = Zk.newClient(zk, Zk.CONNECTION_TIMEOUT, auth);
             ClusterView view = new ClusterView(client, layout)) {
            try {
                Zk.checkAccess(client, zk, layout, auth);
            } catch (ZkAccessException e) {
                throw new CommandFailedException(e.getMessage());
            }
            view.start();
            if (!view.awaitInitialized(TIMEOUT)) {
                throw new CommandFailedException("could not read cluster '" + cluster + "' from ZooKeeper at " + zk
                        + " within " + TIMEOUT.toSeconds() + " s: is ZooKeeper running there? (--verbose shows the"
                        + " ZooKeeper client's attempts)");
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
