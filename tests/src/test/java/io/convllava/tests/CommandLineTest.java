package io.convllava.tests;

import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launcher's command line: help, and mistakes reported before anything starts, naming what is wrong. */
class CommandLineTest {
    private static final String[] COMMANDS = {"demo", "generate", "local", "zookeeper", "vision-node", "llm-node",
            "coordinator", "status", "bench", "download", "eval", "generate-completion"};

    @Test
    void usageListsEveryCommand() {
        CliRun help = CliRun.of("--help");
        assertEquals(0, help.exitCode);
        for (String command : COMMANDS) {
            assertTrue(help.out.contains("  " + command + " "), command + " missing from\n" + help.out);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "generate", "local", "zookeeper", "vision-node", "llm-node", "coordinator",
            "status", "bench", "download", "eval"})
    void everyCommandHasItsOwnHelpWithDefaults(String command) {
        CliRun help = CliRun.of(command, "--help");
        assertEquals(0, help.exitCode, help.err);
        assertTrue(help.out.startsWith("Usage: convllava " + command), help.out);
        assertTrue(help.out.contains("(default: "), "no defaults shown:\n" + help.out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "generate", "local", "zookeeper", "vision-node", "llm-node", "coordinator",
            "status", "bench", "download", "eval"})
    void anUnknownFlagIsRefusedNamingIt(String command) {
        CliRun run = CliRun.of(command, "--bogus-flag", "7");
        assertEquals(2, run.exitCode);
        assertTrue(firstLine(run.err).contains("'--bogus-flag'"), run.err);
        assertTrue(run.err.contains("convllava " + command + " --help"), run.err);
    }

    @Test
    void aWrongValueIsRefusedNamingTheFlag() {
        CliRun run = CliRun.of("generate", "--model", "m", "--prompt", "hi", "--max-new-tokens", "many");
        assertEquals(2, run.exitCode);
        assertTrue(firstLine(run.err).contains("'--max-new-tokens'") && run.err.contains("'many'"), run.err);

        run = CliRun.of("vision-node", "--zk", "127.0.0.1:1", "--model", "m", "--device", "tpu");
        assertEquals(2, run.exitCode);
        assertTrue(firstLine(run.err).contains("'--device'") && run.err.contains("cpu, gpu or gpu:N"), run.err);

        run = CliRun.of("generate", "--model", "m", "--prompt", "hi", "--max-new-tokens", "-3");
        assertEquals(2, run.exitCode);
        assertTrue(firstLine(run.err).contains("'--max-new-tokens'") && run.err.contains(">= 1"), run.err);
    }

    @Test
    void aMissingRequiredFlagIsNamed() {
        CliRun run = CliRun.of("llm-node", "--model", "m", "--layers", "0-2");
        assertEquals(2, run.exitCode);
        assertTrue(firstLine(run.err).contains("--zk"), run.err);
    }

    @Test
    void aBlankPromptIsRefusedInProcessAndForACluster() {
        CliRun local = CliRun.of("generate", "--model", Fixtures.shapesModel().toString(), "--prompt", "   ");
        assertEquals(2, local.exitCode);
        assertTrue(firstLine(local.err).contains("'--prompt'") && local.err.contains("blank"), local.err);

        CliRun remote = CliRun.of("generate", "--target", "127.0.0.1:1", "--prompt", "");
        assertEquals(2, remote.exitCode);
        assertTrue(firstLine(remote.err).contains("'--prompt'") && remote.err.contains("blank"), remote.err);
    }

    @Test
    void anOversizeImageIsRefusedBeforeSendingNamingTheFileAndTheLimit(@TempDir Path dir) throws IOException {
        Path big = dir.resolve("huge.png");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(72_000_129L); // sparse: the size is what counts
        }
        CliRun run = CliRun.of("generate", "--target", "127.0.0.1:1", "--image", big.toString(), "--prompt", "hi");
        assertEquals(2, run.exitCode);
        String first = firstLine(run.err);
        assertTrue(first.contains("'--image'") && first.contains("huge.png") && first.contains("72000129")
                && first.contains("32 MiB"), run.err);
    }

    @Test
    void nothingListeningNamesTheAddressAndWhatToDo() throws IOException {
        int port = freePort();
        String target = "127.0.0.1:" + port;
        CliRun generate = CliRun.of("generate", "--target", target, "--prompt", "hi");
        assertEquals(1, generate.exitCode);
        assertTrue(generate.err.contains("cannot reach the coordinator at " + target), generate.err);
        assertTrue(generate.err.contains("connection refused") && generate.err.contains("convllava local"),
                generate.err);
        assertEquals(1, generate.err.strip().lines().count(), "one line, no stack trace:\n" + generate.err);

        CliRun status = CliRun.of("status", "--target", target);
        assertEquals(1, status.exitCode);
        assertTrue(status.err.contains("cannot reach the coordinator at " + target), status.err);
    }

    @Test
    void flagsComeFromTheConfigFileUnlessGiven(@TempDir Path dir) throws IOException {
        int port = freePort();
        Path config = dir.resolve("convllava.properties");
        Files.writeString(config, "target=127.0.0.1:" + port + "\n");
        CliRun fromFile = CliRun.of("status", "--config", config.toString());
        assertTrue(fromFile.err.contains("127.0.0.1:" + port), fromFile.err);

        int other = freePort();
        CliRun flagWins = CliRun.of("status", "--config", config.toString(), "--target", "127.0.0.1:" + other);
        assertTrue(flagWins.err.contains("127.0.0.1:" + other), flagWins.err);

        CliRun missing = CliRun.of("status", "--config", dir.resolve("nope.properties").toString());
        assertEquals(2, missing.exitCode);
        assertTrue(missing.err.contains("nope.properties"), missing.err);
    }

    /** Every command that takes --model takes a hub id too, looked up in --hf-cache (models--ORG--NAME). */
    @ParameterizedTest
    @ValueSource(strings = {"demo", "bench", "bench serving", "bench failover", "bench scale", "generate --prompt hi",
            "llm-node --zk 127.0.0.1:1 --layers 0-2"})
    void aHubIdIsLookedUpInTheHubCache(String command, @TempDir Path cache) {
        List<String> args = new ArrayList<>(List.of(command.split(" ")));
        args.addAll(List.of("--model", "Org/Absent", "--hf-cache", cache.toString()));
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(1, run.exitCode, run.err);
        assertTrue(run.err.contains("model 'Org/Absent' not found") && run.err.contains("no "
                + cache.resolve("models--Org--Absent") + " in the hub cache"), run.err);
    }

    @Test
    void aDownloadNeedsAHubId() {
        CliRun run = CliRun.of("download", "models/convllava-shapes/");
        assertEquals(2, run.exitCode);
        assertTrue(firstLine(run.err).contains("must be a hub id ORG/NAME"), run.err);
    }

    @Test
    void statusNeedsZooKeeperOrACoordinator() {
        CliRun run = CliRun.of("status");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("give either --zk host:port or --target host:port"), run.err);
    }

    @Test
    void layersPastTheModelAreRefusedBeforeConnecting() {
        CliRun run = CliRun.of("llm-node", "--zk", "127.0.0.1:1", "--model", Fixtures.tinyModel().toString(),
                "--layers", "2-9");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--layers 2-9 goes past the model's 4 layers"), run.err);

        run = CliRun.of("llm-node", "--zk", "127.0.0.1:1", "--model", Fixtures.tinyModel().toString(),
                "--layers", "half");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("layer range 'half' must look like 'start-end'"), run.err);
    }

    @Test
    void theHttpApisFlagsAreCheckedBeforeAnythingStarts() {
        String tiny = Fixtures.tinyModel().toString();
        CliRun run = CliRun.of("coordinator", "--zk", "127.0.0.1:1", "--model", tiny, "--allow-image-urls");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--allow-image-urls is about the HTTP API: give --http-port too"), run.err);
        run = CliRun.of("coordinator", "--zk", "127.0.0.1:1", "--model", tiny, "--http-port", "70000");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--http-port: the HTTP port must be between 0 and 65535, got 70000"), run.err);
        run = CliRun.of("local", "--model", tiny, "--http-port", "-1");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--http-port must be between 0 and 65535, got -1"), run.err);
        run = CliRun.of("local", "--model", tiny, "--allow-image-urls");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--allow-image-urls is about the HTTP API: give --http-port too"), run.err);
        run = CliRun.of("demo", "--http-port", "8080");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--http-port is the port of the web page: give --web too"), run.err);
        run = CliRun.of("demo", "--web", "--http-port", "70000");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--http-port must be between 0 and 65535, got 70000"), run.err);
    }

    @Test
    void inProcessOnlyFlagsAreRefusedForACluster() {
        CliRun run = CliRun.of("generate", "--target", "127.0.0.1:1", "--pixels-npy", "x.npy", "--prompt", "hi");
        assertEquals(2, run.exitCode);
        assertTrue(run.err.contains("--pixels-npy works in process only"), run.err);
    }

    @Test
    void completionScriptCoversTheCommands() {
        CliRun run = CliRun.of("generate-completion");
        assertEquals(0, run.exitCode, run.err);
        assertTrue(run.out.contains("complete -F") && run.out.contains("vision-node")
                && run.out.contains("--max-new-tokens"), run.out);
    }

    private static String firstLine(String text) {
        return text.lines().findFirst().orElse("");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
