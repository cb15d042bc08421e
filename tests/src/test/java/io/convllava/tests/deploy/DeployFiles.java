package io.convllava.tests.deploy;

import io.convllava.cli.LauncherCommandLine;
import io.convllava.common.testing.Fixtures;
import io.convllava.coordinator.server.CoordinatorConfig;
import io.convllava.llm.node.LlmNode;
import io.convllava.vision.node.VisionNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deployment files under {@code deploy/}, and what they must agree with in the code. */
final class DeployFiles {
    /** The metrics port each role's deployments give it (--metrics-port; the code's default is 0, off). */
    static final Map<String, Integer> METRICS_PORTS = Map.of("coordinator", 9451, "vision-node", 9461,
            "llm-node", 9471);

    private DeployFiles() {
    }

    static Path dir() {
        return Fixtures.projectRoot().resolve("deploy");
    }

    static Path file(String relative) {
        Path file = dir().resolve(relative);
        assertTrue(Files.isRegularFile(file), file + " is missing");
        return file;
    }

    static String read(String relative) {
        try {
            return Files.readString(file(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The distribution's launcher script, {@code bin/convllava}. */
    static String launcherScript() {
        return read("src/dist/bin/convllava");
    }

    /** A convllava command line of a deployment file, parsed by the launcher's model. */
    static LauncherCommandLine parse(String where, List<String> args, Map<String, String> env) {
        return LauncherCommandLine.parse(where, args, env, launcherScript());
    }

    /** The gRPC port of each server role by default, as the code has it. */
    static int defaultGrpcPort(String role) {
        return switch (role) {
            case "coordinator" -> CoordinatorConfig.DEFAULT_PORT;
            case "vision-node" -> VisionNode.DEFAULT_PORT;
            case "llm-node" -> LlmNode.DEFAULT_PORT;
            default -> throw new AssertionError("no server role " + role);
        };
    }
}
