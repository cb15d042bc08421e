package io.convllava.vision.node;

import io.convllava.common.checkpoint.CheckpointException;
import io.convllava.common.cluster.TestZooKeeper;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A vision node takes its port before it loads the tower: a busy port is reported without loading anything. */
class VisionNodeStartTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    @RegisterExtension
    static final TestZooKeeper ZOOKEEPER = new TestZooKeeper();

    @TempDir
    Path dir;

    @Test
    void aBusyPortIsReportedBeforeTheTowerLoads() throws Exception {
        // weights that cannot load: only the port can be the reason it fails
        ModelFiles weightless = ModelFiles.resolve(Fixtures.tinyModelWithoutWeights(dir).toString(), null, null);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            IOException e = assertThrows(IOException.class, () -> start(weightless, port));
            assertEquals("vision-node: port " + port + " on 127.0.0.1 is already in use (another process listens"
                    + " there): stop it or pick another --port", e.getMessage());
        }
    }

    @Test
    void aNodeThatCannotLoadGivesItsPortBack() throws Exception {
        ModelFiles weightless = ModelFiles.resolve(Fixtures.tinyModelWithoutWeights(dir).toString(), null, null);
        int port = freePort();
        assertThrows(CheckpointException.class, () -> start(weightless, port));
        new ServerSocket(port, 1, InetAddress.getLoopbackAddress()).close();
    }

    private static VisionNode start(ModelFiles files, int port) throws Exception {
        return VisionNode.start(files, "tiny", "cpu", "127.0.0.1", port, null,
                ZOOKEEPER.client(), new ZkLayout("vision-start"), QUIET);
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }
}
