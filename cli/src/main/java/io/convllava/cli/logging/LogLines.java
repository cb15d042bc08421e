package io.convllava.cli.logging;

import org.slf4j.Logger;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A {@link PrintStream} whose every line becomes one INFO event of a logger: the progress lines that nodes print
 * (loading, ready, freed sessions) then come out in the same structured format as their other logs.
 */
public final class LogLines extends OutputStream {
    private final Logger logger;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);

    private LogLines(Logger logger) {
        this.logger = logger;
    }

    /** A stream that logs each line it is given to {@code logger}. */
    public static PrintStream to(Logger logger) {
        return new PrintStream(new LogLines(logger), true, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            emit();
        } else if (b != '\r') {
            line.write(b);
        }
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            write(bytes[i]);
        }
    }

    @Override
    public synchronized void flush() {
        // a line is logged when it ends, not when flushed: println flushes after the line separator anyway
    }

    @Override
    public synchronized void close() {
        if (line.size() > 0) {
            emit();
        }
    }

    private void emit() {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (!text.isBlank()) {
            logger.info(text);
        }
    }
}
