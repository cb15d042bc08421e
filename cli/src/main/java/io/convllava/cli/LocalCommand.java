package io.convllava.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code convllava local}: embedded ZooKeeper + N vision nodes + M llm nodes + a coordinator on loopback, each
 * node in its own JVM; prints the endpoint once ready and runs until interrupted, then stops everything.
 */
@Command(name = "local", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a whole cluster on this machine: an embedded ZooKeeper, vision nodes, llm nodes and a"
                + " coordinator, each in its own JVM, until Ctrl-C.")
final class LocalCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOption device;

    @Option(names = "--vision-nodes", defaultValue = "1", paramLabel = "N",
            description = "Vision nodes to start (default: ${DEFAULT-VALUE}).")
    int visionNodes;

    @Option(names = "--llm-nodes", defaultValue = "2", paramLabel = "M",
            description = "llm nodes to start with --layers auto (default: ${DEFAULT-VALUE}).")
    int llmNodes;

    @Option(names = "--layers", defaultValue = "auto", paramLabel = "auto|a-b,c-d,...",
            description = "auto: the plan leader splits the layers; or one half-open range per llm node, e.g."
                    + " 0-2,2-4 (default: ${DEFAULT-VALUE}).")
    String layers;

    @Option(names = "--port", defaultValue = "50051", paramLabel = "PORT",
            description = "The coordinator's port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--http-port", paramLabel = "PORT", description = "The coordinator also serves the"
            + " OpenAI-compatible HTTP API and the web chat page on this port (see convllava coordinator --help); 0"
            + " picks a free one (default: off).")
    Integer httpPort;

    @Option(names = "--allow-image-urls", description = "The HTTP API downloads images named by http(s) URL (see"
            + " convllava coordinator --help).")
    boolean allowImageUrls;

    @Option(names = "--log-dir", paramLabel = "DIR", description = "Where each node's log goes (default: a new"
            + " temporary folder).")
    Path logDir;

    @Option(names = "--node-java-opts", defaultValue = "-Xmx2g", paramLabel = "OPTS",
            description = "JVM options of every node (default: ${DEFAULT-VALUE}).")
    String nodeJavaOptions;

    @Option(names = "--ready-timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "How long to wait for the cluster to serve (default: ${DEFAULT-VALUE}).")
    int readyTimeout;

    @Option(names = "--metrics-port", defaultValue = "0", paramLabel = "PORT",
            description = "Prometheus metrics: the coordinator at http://127.0.0.1:PORT/metrics, every other node on"
                    + " the ports after it (printed once the cluster is ready); 0 = off (default: ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--no-prefix-reuse", description = "The coordinator computes every prompt in full (see"
            + " convllava coordinator --help).")
    boolean noPrefixReuse;

    LocalCluster.Spec spec() {
        if (visionNodes < 0) {
            throw new UsageException("--vision-nodes must be >= 0, got " + visionNodes);
        }
        List<String> ranges;
        if (layers.equals("auto")) {
            if (llmNodes < 1) {
                throw new UsageException("--llm-nodes must be >= 1, got " + llmNodes);
            }
            ranges = new ArrayList<>();
            for (int i = 0; i < llmNodes; i++) {
                ranges.add("auto");
            }
        } else {
            ranges = Arrays.asList(layers.split(","));
            for (String r : ranges) {
                if (!r.matches("\\d+-\\d+")) {
                    throw new UsageException("--layers " + layers + ": '" + r + "' is not a range like 0-16;"
                            + " give auto or comma-separated half-open ranges");
                }
            }
        }
        Path logs = logDir != null ? logDir : Path.of(System.getProperty("java.io.tmpdir"),
                "convllava-local-" + ProcessHandle.current().pid());
        String chosen = model.model != null ? model.model : ModelOptions.bundled().toString();
        if (metricsPort < 0 || metricsPort > 65535 - visionNodes - ranges.size()) {
            throw new UsageException("--metrics-port must be 0 (off) or a port with room for the "
                    + (1 + visionNodes + ranges.size()) + " nodes after it, got " + metricsPort);
        }
        return new LocalCluster.Spec(chosen, str(model.hfCache), str(model.visionTower), device.device, visionNodes,
                ranges, port, logs, nodeJavaOptions, coordinatorOptions())
                .withMetricsPort(metricsPort).withLogFormat(main.logFormat());
    }

    /** The coordinator's flags; with --http-port 0 it binds a free HTTP port itself and names it when ready. */
    private List<String> coordinatorOptions() {
        List<String> options = new ArrayList<>();
        if (noPrefixReuse) {
            options.add("--no-prefix-reuse");
        }
        if (httpPort != null) {
            if (httpPort < 0 || httpPort > 65535) {
                throw new UsageException("--http-port must be between 0 and 65535, got " + httpPort);
            }
            try {
                options.addAll(List.of("--http-port", String.valueOf(httpPort == 0 ? 0
                        : LocalCluster.requireFree(httpPort, "--http-port"))));
            } catch (IOException e) {
                throw new UsageException(e.getMessage());
            }
            if (allowImageUrls) {
                options.add("--allow-image-urls");
            }
        } else if (allowImageUrls) {
            throw new UsageException("--allow-image-urls is about the HTTP API: give --http-port too");
        }
        return options;
    }

    private static String str(Path p) {
        return p == null ? null : p.toString();
    }

    @Override
    public Integer call() throws Exception {
        PrintStream out = main.out();
        LocalCluster.Spec spec = spec();
        LocalCluster cluster = new LocalCluster(spec, System.err);
        cluster.runUntilStopped(Duration.ofSeconds(readyTimeout), "local-cluster-shutdown", endpoint -> {
            out.println("cluster ready: coordinator at " + endpoint);
            cluster.metricsEndpoints().forEach((node, url) -> out.println("metrics of " + node + ": " + url));
            out.println("try: convllava generate --target " + endpoint + " --prompt \"How many shapes are in the image?\""
                    + " --image models/convllava-shapes/samples/sample-count-0.png");
            if (httpPort != null) {
                String page = "http://127.0.0.1:" + cluster.httpPort().orElseThrow(() -> new IOException(
                        "the coordinator did not name its HTTP port in its ready line")) + "/";
                String url = page + "v1";
                out.println("HTTP API (OpenAI-compatible) at " + url);
                out.println("web chat page at " + page + " (cluster page: " + page + "cluster)");
                out.println("try: curl " + url + "/chat/completions -H 'Content-Type: application/json' -d"
                        + " '{\"messages\": [{\"role\": \"user\", \"content\": \"What can you do?\"}]}'");
            }
            out.println("stop with Ctrl-C");
            out.flush();
        });
        return 0;
    }
}
