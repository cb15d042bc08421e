package io.convllava.cli;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintWriter;
import java.util.List;

/** A flag picocli could not parse: the first line names it, then where to find the flags; exit code 2. */
final class UsageErrors implements CommandLine.IParameterExceptionHandler {
    @Override
    public int handleParseException(ParameterException e, String[] args) {
        CommandLine line = e.getCommandLine();
        PrintWriter err = line.getErr();
        List<String> unknown = line.getUnmatchedArguments();
        if (!(e instanceof UnmatchedArgumentException) && !unknown.isEmpty()) {
            // an unknown flag is the likelier mistake: name it first (picocli reports missing flags first)
            err.println(prefix(line) + "Unknown option" + (unknown.size() > 1 ? "s" : "") + ": '"
                    + String.join("', '", unknown) + "'");
        }
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
