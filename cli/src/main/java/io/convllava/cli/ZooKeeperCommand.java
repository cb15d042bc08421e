package io.convllava.cli;

import io.convllava.common.cluster.EmbeddedZooKeeper;

import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;

/** {@code convllava zookeeper}: a standalone ZooKeeper for development, until SIGINT or SIGTERM. */
final class ZooKeeperCommand {
    static final int DEFAULT_PORT = 2181;

    private ZooKeeperCommand() {
    }

    static int run(Options o, PrintStream out) throws Exception {
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(o.getInt("port", DEFAULT_PORT));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            zk.close();
            stopped.countDown();
        }, "zookeeper-shutdown"));
        out.println("zookeeper ready at " + zk.connectString());
        out.flush();
        stopped.await();
        return 0;
    }
}
