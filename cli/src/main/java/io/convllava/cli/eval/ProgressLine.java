package io.convllava.cli.eval;

import java.io.PrintStream;
import java.util.Locale;

/**
 * "eval textvqa: 120/288 answered (96 from an earlier run), 4.1/s, about 40 s left" on stderr: rewritten in place on
 * a terminal, else a line every {@code interval} (a log stays readable).
 */
public final class ProgressLine {
    private final PrintStream out;
    private final String label;
    private final int total;
    private final int resumed;
    private final boolean inPlace;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long lastPrinted;
    private int answered;
    private int failed;

    /** Makes the line once the run knows how many questions an earlier run answered. */
    @FunctionalInterface
    public interface Factory {
        ProgressLine start(int total, int resumed);
    }

    /** Lines for {@code label} on {@code out}: in place on a terminal, else every 10 s. */
    public static Factory on(PrintStream out, String label, boolean terminal) {
        return (total, resumed) -> new ProgressLine(out, label, total, resumed, terminal, terminal ? 200 : 10_000);
    }

    /**
     * @param resumed questions answered by an earlier run (counted as done, not in the rate)
     * @param inPlace rewrite one line (a terminal) rather than print new ones
     */
    public ProgressLine(PrintStream out, String label, int total, int resumed, boolean inPlace, long intervalMillis) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.resumed = resumed;
        this.inPlace = inPlace;
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.lastPrinted = start;
    }

    /** One more question done, answered or failed. */
    public synchronized void advance(boolean answeredIt) {
        if (answeredIt) {
            answered++;
        } else {
            failed++;
        }
        long now = System.nanoTime();
        if (now - lastPrinted >= intervalNanos) {
            lastPrinted = now;
            print(now, false);
        }
    }

    /** The final state, on a line of its own. */
    public synchronized void finish() {
        print(System.nanoTime(), true);
    }

    private void print(long now, boolean last) {
        int done = resumed + answered + failed;
        double seconds = Math.max(1e-9, (now - start) / 1e9);
        double rate = (answered + failed) / seconds;
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "eval %s: %d/%d answered", label,
                resumed + answered, total));
        if (resumed > 0) {
            line.append(" (").append(resumed).append(" from an earlier run)");
        }
        if (failed > 0) {
            line.append(", ").append(failed).append(" failed");
        }
        if (answered + failed > 0) {
            line.append(String.format(Locale.ROOT, ", %.1f/s", rate));
        }
        if (!last && rate > 0 && done < total) {
            line.append(String.format(Locale.ROOT, ", about %.0f s left", (total - done) / rate));
        }
        if (last) {
            line.append(String.format(Locale.ROOT, " in %.1f s", seconds));
        }
        if (inPlace) {
            out.print("\r" + line + "\u001b[K" + (last ? "\n" : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }
}
