package io.convllava.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code convllava local}: embedded ZooKeeper + N vision nodes + M llm nodes + a coordinator on loopback, each
 * node in its own JVM; prints the endpoint once ready and runs until interrupted, then stops everything.
 */
final class LocalCommand {
    private LocalCommand() {
    }

    static LocalCluster.Spec spec(Options o) {
        List<String> layers;
        String layerFlag = o.get("layers", "auto");
        if (layerFlag.equals("auto")) {
            int n = o.getInt("llm-nodes", 2);
            if (n < 1) {
                throw new Options.UsageException("--llm-nodes must be >= 1, got " + n);
            }
            layers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                layers.add("auto");
            }
        } else {
            layers = Arrays.asList(layerFlag.split(","));
        }
        String logDir = o.get("log-dir", Path.of(System.getProperty("java.io.tmpdir"),
                "convllava-local-" + ProcessHandle.current().pid()).toString());
        return new LocalCluster.Spec(o.get("model", defaultModel().toString()), o.get("hf-cache"),
                o.get("vision-tower"), o.get("device", "cpu"), o.getInt("vision-nodes", 1), layers,
                o.getInt("port", 50051), Path.of(logDir), o.get("node-java-opts", "-Xmx2g"));
    }

    /** The bundled demo model, {@code models/convllava-shapes} of the distribution. */
    static Path defaultModel() {
        String home = System.getenv("CONVLLAVA_HOME");
        return Path.of(home != null ? home : ".").resolve("models/convllava-shapes");
    }

    static int run(Options o, PrintStream out) throws Exception {
        LocalCluster cluster = new LocalCluster(spec(o), System.err);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            cluster.close();
            stopped.countDown();
        }, "local-cluster-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            String endpoint = cluster.start(Duration.ofSeconds(o.getInt("ready-timeout", 300)));
            out.println("cluster ready: coordinator at " + endpoint);
            out.println("try: ./convllava generate --target " + endpoint + " --prompt \"How many shapes are in the image?\""
                    + " --image models/convllava-shapes/samples/sample-count-0.png");
            out.println("stop with Ctrl-C");
            out.flush();
            stopped.await();
        } catch (Exception e) {
            Runtime.getRuntime().removeShutdownHook(hook);
            cluster.close();
            throw e;
        }
        return 0;
    }
}
