package io.convllava.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --hf-cache DIR}: where a {@code --model ORG/NAME} is looked up, for commands that take a model folder. */
final class HubCacheOption {
    static final String HELP = "Hugging Face hub cache to look hub ids up in (default: $HF_HUB_CACHE, $HF_HOME/hub or"
            + " ~/.cache/huggingface/hub).";

    @Option(names = "--hf-cache", paramLabel = "DIR", description = HELP)
    Path dir;

    /** The flag's value as the nodes of a local cluster take it, or null. */
    String arg() {
        return dir == null ? null : dir.toString();
    }
}
