package io.convllava.cli;

import java.io.PrintStream;
import java.util.Set;

/** The {@code convllava} launcher: one distribution for every role. */
public final class Main {
    static final Set<String> SWITCHES = Set.of("json", "help", "build-only", "no-box-image");

    private static final String USAGE = """
            usage: convllava <command> [flags]

              demo          start a local cluster on the bundled convllava-shapes model, ask it questions, stop it
              generate      answer one prompt: in this process (--model M) or through a cluster (--target host:port)
                            [--hf-cache D] [--vision-tower D] [--image F | --pixels-npy F] --prompt P
                            [--template vicuna_v1|llava_v1] [--max-new-tokens N] [--temperature T] [--top-p P]
                            [--top-k K] [--seed S] [--stop S1|S2] [--json] [--dump-dir D] [--device cpu|gpu]
              local         embedded ZooKeeper + N vision nodes + M llm nodes + a coordinator, each in its own JVM
                            --model M [--vision-nodes N] [--llm-nodes M] [--layers auto|0-2,2-4] [--port P]
              zookeeper     a standalone embedded ZooKeeper server for development [--port 2181]
              vision-node   --zk host:port --model M [--port 50061] [--device cpu|gpu]
              llm-node      --zk host:port --model M --layers a-b|auto [--port 50071] [--device cpu|gpu]
                            (a-b is half-open: 0-16 holds layers 0..15)
              coordinator   --zk host:port --model M [--port 50051] [--max-concurrent 8] [--max-queued 32]
              status        --zk host:port | --target host:port   nodes, layer coverage, replicas and load
                            (exit code 3 when no complete pipeline exists)
              bench         in-process speed on a mid-size random-weight model (see docs/benchmarks.md)

            Cluster roles also take [--cluster NAME] (default "default"), [--host H] (address to bind and advertise,
            default 127.0.0.1), [--node-id ID] and [--model-id ID]; --port 0 picks a free port. Each prints
            "<role> ready at host:port" once it serves, and stops cleanly on SIGINT/SIGTERM.
            generate --target also takes [--timeout-s 600].
            Every flag can also be set as CONVLLAVA_<FLAG> in the environment or as flag=value in --config FILE.
            """;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            Options o = Options.parse(args, SWITCHES);
            if (o.command() == null || o.flag("help")) {
                out.print(USAGE);
                return o.command() == null && !o.flag("help") ? 2 : 0;
            }
            return switch (o.command()) {
                case "demo" -> DemoCommand.run(o, out);
                case "local" -> LocalCommand.run(o, out);
                case "generate" -> GenerateCommand.run(o, out);
                case "zookeeper" -> ZooKeeperCommand.run(o, out);
                case "vision-node" -> VisionNodeCommand.run(o, out);
                case "llm-node" -> LlmNodeCommand.run(o, out);
                case "coordinator" -> CoordinatorCommand.run(o, out);
                case "status" -> StatusCommand.run(o, out);
                case "bench" -> BenchCommand.run(o, out);
                default -> throw new Options.UsageException("unknown command '" + o.command() + "'");
            };
        } catch (Options.UsageException e) {
            err.println("convllava: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (Exception e) {
            err.println("convllava: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (System.getenv("CONVLLAVA_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return 1;
        }
    }
}
