package io.convllava.cli;

/** A command-line mistake found after parsing (a combination of flags, a missing file): exit code 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
