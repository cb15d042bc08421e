package io.convllava.cli;

import java.util.Arrays;

/**
 * Console logging (slf4j-simple, configured by system properties before the first logger exists): the project's
 * own messages from INFO, libraries silent unless {@code --verbose} (or {@code CONVLLAVA_VERBOSE=true}) asks for them,
 * so a ZooKeeper that cannot be reached is one line from the command, not pages of client retries.
 */
final class Logging {
    private static final String PREFIX = "org.slf4j.simpleLogger.";

    private Logging() {
    }

    static boolean requestedVerbose(String[] args) {
        return Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-v")
                || Boolean.parseBoolean(System.getenv(ConfigDefaults.PREFIX + "VERBOSE"));
    }

    static void configure(boolean verbose) {
        setIfAbsent("defaultLogLevel", verbose ? "info" : "off");
        setIfAbsent("log.io.convllava", "info");
        setIfAbsent("showDateTime", "false");
        setIfAbsent("showThreadName", "false");
        setIfAbsent("showShortLogName", "true");
        if (!verbose) {
            // DJL probes for CUDA on every start; on a CPU-only machine that is expected
            setIfAbsent("log.ai.djl.util.cuda", "off");
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(PREFIX + key) == null) {
            System.setProperty(PREFIX + key, value);
        }
    }
}
