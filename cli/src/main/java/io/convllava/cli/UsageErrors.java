package io.convllava.cli;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintWriter;

/** A flag picocli could not parse: the first line names it, then where to find the flags; exit code 2. */
final class UsageErrors implements CommandLine.IParameterExceptionHandler {
    @Override
    public int handleParseException(ParameterException e, String[] args) {
        CommandLine line = e.getCommandLine();
        PrintWriter err = line.getErr();
        err.println(prefix(line) + e.getMessage());
        UnmatchedArgumentException.printSuggestions(e, err);
        err.println(tryHelp(line));
        return Main.USAGE;
    }

    /** {@code convllava generate: } */
    static String prefix(CommandLine line) {
        return line.getCommandSpec().qualifiedName() + ": ";
    }

    static String tryHelp(CommandLine line) {
        return "Try '" + line.getCommandSpec().qualifiedName() + " --help' for the flags it takes.";
    }
}
