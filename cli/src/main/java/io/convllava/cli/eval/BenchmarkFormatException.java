package io.convllava.cli.eval;

/** A benchmark file that is not in the format its task expects; the message names the file, line and field. */
public final class BenchmarkFormatException extends RuntimeException {
    public BenchmarkFormatException(String message) {
        super(message);
    }

    public BenchmarkFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
