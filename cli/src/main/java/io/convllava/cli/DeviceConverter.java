package io.convllava.cli;

import io.convllava.common.model.ComputeTarget;
import picocli.CommandLine;

/** Checks {@code --device} while parsing (the nodes parse it again into their {@link ComputeTarget}). */
final class DeviceConverter implements CommandLine.ITypeConverter<String> {
    @Override
    public String convert(String value) {
        try {
            ComputeTarget.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
        return value;
    }
}
