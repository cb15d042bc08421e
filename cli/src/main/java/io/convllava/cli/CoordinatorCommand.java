package io.convllava.cli;

import io.convllava.coordinator.server.CoordinatorConfig;
import io.convllava.coordinator.server.CoordinatorServer;
import io.convllava.coordinator.server.ServedModel;
import org.apache.curator.framework.CuratorFramework;

import java.io.PrintStream;

/** {@code convllava coordinator}: the public API of a cluster, until SIGINT or SIGTERM. */
final class CoordinatorCommand {
    private CoordinatorCommand() {
    }

    static int run(Options o, PrintStream out) throws Exception {
        ServedModel model = ServedModel.load(NodeFlags.modelId(o), NodeFlags.modelFiles(o));
        String host = NodeFlags.host(o);
        int port = o.getInt("port", CoordinatorConfig.DEFAULT_PORT);
        CoordinatorConfig defaults = CoordinatorConfig.defaults(o.get("node-id"), host, port);
        CoordinatorConfig config = defaults.withLimits(o.getInt("max-concurrent", defaults.maxConcurrent()),
                o.getInt("max-queued", defaults.maxQueued()));
        CuratorFramework zk = NodeFlags.zk(o);
        try (CoordinatorServer server = CoordinatorServer.start(model, config, zk, NodeFlags.layout(o))) {
            server.stopOnJvmShutdown();
            out.println("coordinator ready at " + server.address() + " (model " + model.id() + ")");
            out.flush();
            server.blockUntilShutdown();
        } finally {
            zk.close();
        }
        return 0;
    }
}
