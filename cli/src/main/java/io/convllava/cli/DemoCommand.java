package io.convllava.cli;

import com.google.protobuf.ByteString;
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

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code convllava demo}: a local cluster (embedded ZooKeeper, 1 vision node, 2 llm nodes splitting the layers
 * automatically, a coordinator) on the bundled convllava-shapes model; streams the answers to a counting and a
 * grounding question, draws the predicted box, prints the status table and stops everything.
 */
final class DemoCommand {
    static final String COUNT_QUESTION = "How many shapes are in the image?";
    static final String GROUND_QUESTION =
            "Please provide the bounding box coordinate of the region this sentence describes: the red circle.";

    private DemoCommand() {
    }

    static int run(Options o, PrintStream out) throws Exception {
        Path model = Path.of(o.get("model", LocalCommand.defaultModel().toString()));
        Path samples = model.resolve("samples");
        if (!Files.isDirectory(samples)) {
            throw new Options.UsageException("the demo needs the bundled model with its samples/ at " + model);
        }
        Path outDir = Path.of(o.get("out", "demo-output"));
        LocalCluster.Spec spec = new LocalCluster.Spec(model.toString(), null, null, o.get("device", "cpu"), 1,
                List.of("auto", "auto"), o.getInt("port", 0),
                Path.of(o.get("log-dir", outDir.resolve("logs").toString())), o.get("node-java-opts", "-Xmx1g"));
        out.println("demo: starting ZooKeeper, 1 vision node, 2 llm nodes (--layers auto) and a coordinator on "
                + model.getFileName() + " ...");
        try (LocalCluster cluster = new LocalCluster(spec, out)) {
            String endpoint = cluster.start(Duration.ofSeconds(o.getInt("ready-timeout", 300)));
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
            } finally {
                channel.shutdownNow();
            }
            out.println("demo: stopping the cluster");
        }
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
        Final result = RemoteGenerateCommand.stream(channel, request, Duration.ofMinutes(5), delta -> {
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
