package io.convllava.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Where the log format comes from, before any logger exists: the flag, else the environment, else the config file. */
class LoggingTest {

    @Test
    void theFlagWinsOverTheEnvironmentWhichWinsOverTheConfigFile(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("convllava.properties"), "log-format=json\n");
        String[] withConfig = {"--config", config.toString(), "llm-node"};
        assertEquals("json", Logging.requestedFormat(withConfig, Map.of()));
        assertEquals("text", Logging.requestedFormat(withConfig, Map.of("CONVLLAVA_LOG_FORMAT", "text")));
        assertEquals("text", Logging.requestedFormat(new String[]{"--config", config.toString(), "--log-format",
                "TEXT"}, Map.of()));
        assertEquals("json", Logging.requestedFormat(new String[]{"--log-format=json"}, Map.of()));
        assertEquals("json", Logging.requestedFormat(new String[0], Map.of("CONVLLAVA_CONFIG", config.toString())));
        assertEquals("text", Logging.requestedFormat(new String[0], Map.of()), "the default");
    }

    @Test
    void anUnreadableConfigFileLeavesTheEnvironment(@TempDir Path dir) {
        String[] args = {"--config", dir.resolve("missing.properties").toString()};
        assertEquals("json", Logging.requestedFormat(args, Map.of("CONVLLAVA_LOG_FORMAT", "json")));
        assertEquals("text", Logging.requestedFormat(args, Map.of()));
    }
}
