package io.convllava.cli;

import picocli.CommandLine.Option;

/** {@code --device cpu|gpu|gpu:N}, checked while parsing so a typo names the flag. */
final class DeviceOption {
    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|gpu|gpu:N", converter = DeviceConverter.class,
            description = "Where the model runs: cpu (float32) or gpu / gpu:N (float16) (default: ${DEFAULT-VALUE}).")
    String device;
}
