package io.convllava.cli;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;

/** Opens a page in the desktop's browser with {@code xdg-open}, where there is one; says so when it cannot. */
final class BrowserOpener {
    private BrowserOpener() {
    }

    /** Never fails: without xdg-open or a desktop the user opens the printed address by hand. */
    static void tryOpen(String url, PrintStream out) {
        if (System.getenv("DISPLAY") == null && System.getenv("WAYLAND_DISPLAY") == null) {
            return; // no desktop: nothing to open it in
        }
        File opener = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File candidate = new File(dir, "xdg-open");
            if (candidate.canExecute()) {
                opener = candidate;
                break;
            }
        }
        if (opener == null) {
            return;
        }
        try {
            new ProcessBuilder(opener.getPath(), url).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            out.println("demo: could not open a browser (" + e.getMessage() + "): open " + url + " yourself");
        }
    }
}
