package io.convllava.cli;

/** A command that could not do its work, with a message already fit for the user: exit code 1. */
final class CommandFailedException extends RuntimeException {
    CommandFailedException(String message) {
        super(message);
    }
}
