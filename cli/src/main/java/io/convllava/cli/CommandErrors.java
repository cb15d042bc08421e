package io.convllava.cli;

import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;

/**
 * A command that failed: one line that says what went wrong (and, for a usage mistake, where to find the flags);
 * the stack trace only with {@code --verbose}. Exit code 2 for usage mistakes, 1 otherwise.
 */
final class CommandErrors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine line, ParseResult parsed) {
        PrintWriter err = line.getErr();
        if (e instanceof UsageException) {
            err.println(UsageErrors.prefix(line) + e.getMessage());
            err.println(UsageErrors.tryHelp(line));
            return Main.USAGE;
        }
        err.println(UsageErrors.prefix(line) + describe(e));
        if (Logging.requestedVerbose(parsed.originalArgs().toArray(String[]::new))) {
            e.printStackTrace(err);
        }
        return 1;
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message != null && !message.isBlank() ? message : e.toString();
    }
}
