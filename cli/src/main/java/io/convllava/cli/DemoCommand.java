package io.convllava.cli;

import com.google.protobuf.ByteString;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code convllava demo}: a local cluster (embedded ZooKeeper, 1 vision node, 2 llm nodes splitting the layers
 * automatically, a coordinator) on the bundled convllava-shapes model; streams the answers to a counting and a
 * grounding question, draws the predicted box, prints the status table and stops everything. With {@code --web} it
 * serves the web chat and cluster pages on the coordinator's HTTP port instead, until Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Start a local cluster on the bundled convllava-shapes model, ask it a counting and a grounding"
                + " question, draw the box, print the cluster status, stop everything. With --web: serve the web chat page"
                + " until Ctrl-C.")
final class DemoCommand implements Callable<Integer> {
    static final String COUNT_QUESTION = "How many shapes are in the image?";
    static final String GROUND_QUESTION =
            "Please provide the bounding box coordinate of the region this sentence describes: the red circle.";

    @ParentCommand
    private Main main;

    @Option(names = "--model", paramLabel = "DIR|ORG/NAME", description = "The demo model with its samples/, a"
            + " folder or a hub id in the hub cache (default: the bundled models/convllava-shapes).")
    String model;

    @Mixin
    HubCacheOption hubCache;

    @Mixin
    DeviceOption device;

    @Option(names = "--out", defaultValue = "demo-output", paramLabel = "DIR",
            description = "Where the image with the drawn box and the node logs go (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--port", defaultValue = "0", paramLabel = "PORT",
            description = "The coordinator's port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--log-dir", paramLabel = "DIR", description = "Node logs (default: OUT/logs).")
    Path logDir;

    @Option(names = "--node-java-opts", defaultValue = "-Xmx1g", paramLabel = "OPTS",
            description = "JVM options of every node (default: ${DEFAULT-VALUE}).")
    String nodeJavaOptions;

    @Option(names = "--ready-timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "How long to wait for the cluster to serve (default: ${DEFAULT-VALUE}).")
    int readyTimeout;

    @Option(names = "--web", description = "Serve the web chat page (and the cluster page) on the coordinator's HTTP"
            + " port, print its address, open it in a browser where xdg-open can, and keep serving until Ctrl-C.")
    boolean web;

    @Option(names = "--http-port", defaultValue = "0", paramLabel = "PORT", description = "With --web: the HTTP port"
            + " of the page and the OpenAI-compatible API; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int httpPort;

    @Override
    public Integer call() throws Exception {
        PrintStream out = main.out();
        if (httpPort < 0 || httpPort > 65535) {
            throw new UsageException("--http-port must be between 0 and 65535, got " + httpPort);
        }
        if (httpPort != 0 && !web) {
            throw new UsageException("--http-port is the port of the web page: give --web too");
        }
        Path chosen = model != null ? ModelFiles.locate(model, hubCache.dir) : ModelOptions.bundled();
        Path samples = chosen.resolve("samples");
        if (!Files.isDirectory(samples)) {
            throw new UsageException("the demo needs the bundled model with its samples/ at " + chosen
                    + " (give --model DIR|ORG/NAME)");
        }
        int http = 0; // port 0: the coordinator binds a free one and names it when ready
        try {
            if (web && httpPort != 0) {
                http = LocalCluster.requireFree(httpPort, "--http-port");
            }
        } catch (IOException e) {
            throw new UsageException(e.getMessage());
        }
        LocalCluster.Spec spec = new LocalCluster.Spec(chosen.toString(), hubCache.arg(), null, device.device, 1,
                List.of("auto", "auto"), port, logDir != null ? logDir : outDir.resolve("logs"), nodeJavaOptions,
                web ? List.of("--http-port", String.valueOf(http)) : List.of());
        if (web) {
            return serveWeb(spec, chosen, out);
        }
        out.println("demo: starting ZooKeeper, 1 vision node, 2 llm nodes (--layers auto) and a coordinator on "
                + chosen.getFileName() + " ...");
        try (LocalCluster cluster = new LocalCluster(spec, out)) {
            String endpoint = cluster.start(Duration.ofSeconds(readyTimeout));
            out.println("demo: cluster ready, coordinator at " + endpoint);
            ManagedChannel channel = Channels.forAddress(endpoint, TransportOptions.DEFAULTS);
            try {
                ask(channel, samples.resolve("sample-count-0.png"), COUNT_QUESTION, out);
                Path groundImage = samples.resolve("sample-ground-1.png");
                Final ground = ask(channel, groundImage, GROUND_QUESTION, out);
                if (ground.getBoxesCount() > 0) {
                    Path drawn = outDir.resolve("sample-ground-1-box.png");
                    BoxDrawing.write(Files.readAllBytes(groundImage), ground.getBoxesList(), "the red circle", drawn);
                    out.printf("   box in pixels: [%.1f, %.1f, %.1f, %.1f], drawn on %s%n", ground.getBoxes(0).getX1(),
                            ground.getBoxes(0).getY1(), ground.getBoxes(0).getX2(), ground.getBoxes(0).getY2(), drawn);
                }
                ClusterStatus status = ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
                out.println();
                StatusCommand.print(status, out);
                out.println();
            } catch (StatusRuntimeException e) {
                throw new CommandFailedException(RemoteCallErrors.describe(e, "the demo's coordinator", endpoint));
            } finally {
                channel.shutdownNow();
            }
            out.println("demo: stopping the cluster");
        }
        return 0;
    }

    /** Starts the cluster with the HTTP port, tells where the page is and serves it until the JVM is stopped. */
    private int serveWeb(LocalCluster.Spec spec, Path chosen, PrintStream out) throws Exception {
        out.println("demo: starting ZooKeeper, 1 vision node, 2 llm nodes (--layers auto) and a coordinator with the web"
                + " page on " + chosen.getFileName() + " ...");
        LocalCluster cluster = new LocalCluster(spec, out);
        cluster.runUntilStopped(Duration.ofSeconds(readyTimeout), "demo-web-shutdown", endpoint -> {
            String page = "http://127.0.0.1:" + cluster.httpPort().orElseThrow(() -> new IOException(
                    "the coordinator did not name its HTTP port in its ready line")) + "/";
            out.println("demo: cluster ready, coordinator at " + endpoint);
            out.println("demo: web chat page at " + page + " (cluster page: " + page + "cluster)");
            out.println("demo: try the pictures in " + chosen.resolve("samples") + ", e.g. sample-count-0.png with \""
                    + COUNT_QUESTION + "\"");
            out.println("demo: stop with Ctrl-C");
            out.flush();
            BrowserOpener.tryOpen(page, out);
        });
        return 0;
    }

    private static Final ask(ManagedChannel channel, Path image, String question, PrintStream out) throws IOException {
        out.println();
        out.println("Q: " + question + "   [" + image.getFileName() + "]");
        out.print("A: ");
        GenerateRequest request = GenerateRequest.newBuilder()
                .addMessages(Message.newBuilder().setRole(Message.Role.USER).setText(question)
                        .addImages(Image.newBuilder().setData(ByteString.copyFrom(Files.readAllBytes(image)))))
                .setMaxNewTokens(40)
                .build();
        Final result = RemoteGenerate.stream(channel, request, Duration.ofMinutes(5), delta -> {
            out.print(delta.getText());
            out.flush();
        });
        out.println();
        out.printf("   (%d prompt + %d image tokens, %d generated, first token %.0f ms, total %.0f ms)%n",
                result.getUsage().getPromptTokens(), result.getUsage().getImageTokens(),
                result.getUsage().getCompletionTokens(), result.getTimings().getFirstTokenMs(),
                result.getTimings().getTotalMs());
        return result;
    }
}
