package io.convllava.llm.node;

import io.convllava.common.transport.TransportOptions;
import io.convllava.llm.schedule.BatchLimits;
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
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** An llm node takes its port before it loads layers: a busy port is reported without loading anything. */
class LlmNodeStartTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    @RegisterExtension
    static final TestZooKeeper ZOOKEEPER = new TestZooKeeper();

    @TempDir
    Path dir;

    @Test
    void aBusyPortIsReportedBeforeTheLayersLoad() throws Exception {
        // weights that cannot load: only the port can be the reason it fails
        ModelFiles weightless = ModelFiles.resolve(Fixtures.tinyModelWithoutWeights(dir).toString(), null, null);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            for (String layers : new String[] {"0-2", "auto"}) {
                IOException e = assertThrows(IOException.class, () -> start(weightless, layers, port));
                assertEquals("llm-node: port " + port + " on 127.0.0.1 is already in use (another process listens"
                        + " there): stop it or pick another --port", e.getMessage(), layers);
            }
        }
    }

    @Test
    void aNodeThatCannotLoadGivesItsPortBack() throws Exception {
        ModelFiles weightless = ModelFiles.resolve(Fixtures.tinyModelWithoutWeights(dir).toString(), null, null);
        int port = freePort();
        assertThrows(CheckpointException.class, () -> start(weightless, "0-2", port));
        new ServerSocket(port, 1, InetAddress.getLoopbackAddress()).close();
    }

    private static LlmNode start(ModelFiles files, String layers, int port) throws Exception {
        return LlmNode.start(files, "tiny", layers, "cpu", "127.0.0.1", port, null,
                ZOOKEEPER.client(), new ZkLayout("llm-start"), Duration.ofSeconds(1), BatchLimits.DEFAULTS,
                TransportOptions.DEFAULTS, QUIET);
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }
}
