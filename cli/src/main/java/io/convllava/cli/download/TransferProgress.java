package io.convllava.cli.download;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The progress of a repository's download on stderr: bytes, percentage, rate and time left. On a terminal one line
 * redrawn in place (at most four times a second); elsewhere (a log, a CI job) plain lines: one when a file of a
 * megabyte or more starts and ends, one every ten seconds during it, and a summary per repository. The rate counts
 * only the bytes moved by this run, not a part resumed from an earlier one.
 */
public final class TransferProgress {
    private static final long REDRAW_NANOS = 250_000_000L;
    private static final long LOG_NANOS = 10_000_000_000L;
    private static final long LOGGED_FILE_BYTES = 1_000_000L;
    private static final int BAR = 20;

    private final PrintStream err;
    private final boolean terminal;
    private final LongSupplier clock;

    private String repo = "";
    private int files;
    private long total;
    private long done;
    private long moved;
    private long started;
    private int fileIndex;
    private String file = "";
    private long fileSize;
    private long lastDraw;
    private int drawnWidth;

    public TransferProgress(PrintStream err, boolean terminal, LongSupplier nanoClock) {
        this.err = err;
        this.terminal = terminal;
        this.clock = nanoClock;
    }

    public TransferProgress(PrintStream err, boolean terminal) {
        this(err, terminal, System::nanoTime);
    }

    /** A repository of which {@code files} files, {@code bytes} bytes in all, are to be fetched. */
    public synchronized void beginRepo(String repo, int files, long bytes) {
        this.repo = repo;
        this.files = files;
        this.total = Math.max(bytes, 0);
        this.done = 0;
        this.moved = 0;
        this.started = clock.getAsLong();
        this.fileIndex = 0;
        if (!terminal && files > 0) {
            err.println(repo + ": " + files + (files == 1 ? " file" : " files") + " to fetch, " + bytes(total));
        }
    }

    /** A file of {@code size} bytes starts, {@code resumedFrom} of them already fetched by an earlier run. */
    public synchronized void beginFile(String path, long size, long resumedFrom) {
        fileIndex++;
        file = path;
        fileSize = size;
        done += resumedFrom;
        if (terminal) {
            draw(true);
        } else {
            lastDraw = clock.getAsLong();
            if (size >= LOGGED_FILE_BYTES || resumedFrom > 0) {
                err.println(fileLabel() + ": " + bytes(size) + (resumedFrom > 0 ? ", resuming at "
                        + bytes(resumedFrom) : ""));
            }
        }
    }

    /** {@code n} more bytes arrived. */
    public synchronized void advance(long n) {
        moved += n;
        done += n;
        draw(false);
    }

    /** The server sends the file from its start again: {@code discarded} bytes counted before no longer count. */
    public synchronized void restart(long discarded) {
        done -= discarded;
    }

    public synchronized void endFile() {
        if (terminal) {
            draw(true);
        } else if (fileSize >= LOGGED_FILE_BYTES) {
            err.println(fileLabel() + ": done; " + status());
        }
    }

    /** A line of its own (a retry, a verification), without losing the progress line. */
    public synchronized void note(String line) {
        clearLine();
        err.println(line);
        if (terminal) {
            draw(true);
        }
    }

    /** The repository is done ({@code complete}) or given up. */
    public synchronized void endRepo(boolean complete) {
        clearLine();
        if (complete && files > 0) {
            double seconds = (clock.getAsLong() - started) / 1e9;
            err.println(repo + ": " + bytes(moved) + " fetched" + (seconds > 0 ? String.format(Locale.ROOT,
                    " in %.1f s (%s/s)", seconds, bytes((long) (moved / seconds))) : ""));
        }
    }

    /** "42% 6.3 GB / 14.9 GB, 58.1 MB/s, 2:28 left". */
    synchronized String status() {
        StringBuilder b = new StringBuilder();
        if (total > 0) {
            b.append(String.format(Locale.ROOT, "%d%% %s / %s", Math.min(100, Math.max(0, done) * 100 / total),
                    bytes(done), bytes(total)));
        } else {
            b.append(bytes(done));
        }
        double seconds = (clock.getAsLong() - started) / 1e9;
        if (seconds >= 0.5 && moved > 0) {
            double rate = moved / seconds;
            b.append(", ").append(bytes((long) rate)).append("/s");
            if (total > done) {
                b.append(", ").append(duration((long) Math.ceil((total - done) / rate))).append(" left");
            }
        }
        return b.toString();
    }

    private String fileLabel() {
        return "  [" + fileIndex + "/" + files + "] " + file;
    }

    private void draw(boolean force) {
        long now = clock.getAsLong();
        if (terminal) {
            if (!force && now - lastDraw < REDRAW_NANOS) {
                return;
            }
            lastDraw = now;
            int filled = total > 0 ? (int) Math.min(BAR, Math.max(0, done) * BAR / total) : 0;
            String line = repo + " [" + "#".repeat(filled) + "-".repeat(BAR - filled) + "] " + status() + "  "
                    + file;
            clearLine();
            err.print(line);
            err.flush();
            drawnWidth = line.length();
        } else if (fileSize >= LOGGED_FILE_BYTES && now - lastDraw >= LOG_NANOS) {
            err.println(fileLabel() + ": " + status());
            lastDraw = now;
        }
    }

    private void clearLine() {
        if (drawnWidth > 0) {
            err.print("\r" + " ".repeat(drawnWidth) + "\r");
            drawnWidth = 0;
        }
    }

    /** Decimal units, as the Hub's pages give sizes: 1.2 kB, 9.9 GB. */
    public static String bytes(long n) {
        if (n < 1000) {
            return n + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** {@code 2:28}, {@code 1:02:03}. */
    static String duration(long seconds) {
        long h = seconds / 3600;
        long m = seconds / 60 % 60;
        long s = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s)
                : String.format(Locale.ROOT, "%d:%02d", m, s);
    }
}
