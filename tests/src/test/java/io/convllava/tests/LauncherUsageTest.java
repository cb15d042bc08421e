package io.convllava.tests;

import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mistakes on the cluster roles' command lines are reported before anything starts. */
class LauncherUsageTest {
    private static final String NO_ZOOKEEPER = "127.0.0.1:1";

    @Test
    void usageListsEveryRole() {
        CliRun help = CliRun.of("--help");
        assertEquals(0, help.exitCode);
        for (String role : new String[] {"zookeeper", "vision-node", "llm-node", "coordinator", "status"}) {
            assertTrue(help.out.contains("  " + role + " "), role + " missing from\n" + help.out);
        }
    }

    @Test
    void statusNeedsZooKeeperOrACoordinator() {
        CliRun run = CliRun.of("status");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("status needs --zk host:port or --target host:port"), run.err);
    }

    @Test
    void layersPastTheModelAreRefusedBeforeConnecting() {
        CliRun run = CliRun.of("llm-node", "--zk", NO_ZOOKEEPER, "--model", Fixtures.tinyModel().toString(),
                "--layers", "2-9");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--layers 2-9 goes past the model's 4 layers"), run.err);

        run = CliRun.of("llm-node", "--zk", NO_ZOOKEEPER, "--model", Fixtures.tinyModel().toString(),
                "--layers", "half");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--layers: layer range 'half' must look like 'start-end'"), run.err);
    }

    @Test
    void pixelTensorsCannotBeSentToACluster() {
        CliRun run = CliRun.of("generate", "--target", "127.0.0.1:1", "--pixels-npy", "x.npy", "--prompt", "hi");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--pixels-npy works in process only"), run.err);
    }
}
