package io.convllava.cli;

import io.convllava.common.cluster.Zk;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.model.ModelFiles;
import org.apache.curator.framework.CuratorFramework;

import java.nio.file.Files;
import java.nio.file.Path;

/** The flags every cluster role shares: model, ZooKeeper, cluster name and address. */
final class NodeFlags {
    static final String DEFAULT_HOST = "127.0.0.1";
    static final String DEFAULT_CLUSTER = "default";

    private NodeFlags() {
    }

    /** {@code --model} with {@code --hf-cache} and {@code --vision-tower}. */
    static ModelFiles modelFiles(Options o) {
        Path hfCache = o.has("hf-cache") ? Path.of(o.get("hf-cache")) : null;
        Path tower = o.has("vision-tower") ? Path.of(o.get("vision-tower")) : null;
        return ModelFiles.resolve(o.require("model"), hfCache, tower);
    }

    /** {@code --model-id}, else the model folder's name or the hub id: how nodes and clients name the model. */
    static String modelId(Options o) {
        if (o.has("model-id")) {
            return o.get("model-id");
        }
        String model = o.require("model");
        Path asPath = Path.of(model);
        return Files.isDirectory(asPath) ? asPath.toAbsolutePath().normalize().getFileName().toString() : model;
    }

    /** A connected client for {@code --zk host:port}. */
    static CuratorFramework zk(Options o) {
        return Zk.newClient(o.require("zk"));
    }

    static ZkLayout layout(Options o) {
        return new ZkLayout(o.get("cluster", DEFAULT_CLUSTER));
    }

    /** Address to bind and advertise to the other nodes. */
    static String host(Options o) {
        return o.get("host", DEFAULT_HOST);
    }
}
