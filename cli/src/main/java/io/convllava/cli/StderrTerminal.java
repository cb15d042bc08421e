package io.convllava.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether progress may redraw a line in place: the command prints to this process's stderr, and that is a terminal. */
final class StderrTerminal {
    private StderrTerminal() {
    }

    static boolean is(PrintStream err) {
        if (err != System.err) {
            return false; // an embedding host or a test captures what the command prints
        }
        Path fd2 = Path.of("/proc/self/fd/2");
        if (Files.isSymbolicLink(fd2)) {
            try {
                String target = Files.readSymbolicLink(fd2).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            } catch (IOException e) {
                return false;
            }
        }
        return System.console() != null; // no /proc: stdin and stdout are a terminal, stderr most likely too
    }
}
