package io.convllava.cli;

import io.convllava.common.cluster.EmbeddedZooKeeper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code convllava zookeeper}: a standalone ZooKeeper for development, until SIGINT or SIGTERM. */
@Command(name = "zookeeper", mixinStandardHelpOptions = true,
        description = "A standalone embedded ZooKeeper server for development (not a production ensemble).")
final class ZooKeeperCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Option(names = "--port", defaultValue = "2181", paramLabel = "PORT",
            description = "Client port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
            description = "Address to listen on; 0.0.0.0 for every interface, which lets anyone who reaches this"
                    + " machine change the cluster (default: ${DEFAULT-VALUE}).")
    String bind;

    @Override
    public Integer call() throws Exception {
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(bind, port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            zk.close();
            stopped.countDown();
        }, "zookeeper-shutdown"));
        main.announceReady("zookeeper", null, "zookeeper ready at " + zk.connectString());
        stopped.await();
        return 0;
    }
}
