package io.convllava.common.node;

import java.time.Duration;

/**
 * Stops this process when the process that launched it exits, however it exits (a launcher killed with SIGKILL runs
 * no shutdown hook of its own, and its node processes would go on serving under PID 1). The JVM exits normally
 * (shutdown hooks run, the node leaves the cluster), and is halted if that takes longer than a grace period, as it
 * can when the ZooKeeper the node talked to went with the launcher.
 */
public final class ParentWatch {
    /** JVM property naming the launcher's process id; set by {@code convllava local} on every node it starts. */
    public static final String PARENT_PID = "convllava.parentPid";
    static final Duration GRACE = Duration.ofSeconds(5);

    private ParentWatch() {
    }

    /** Watches the process {@link #PARENT_PID} names, if set; a no-op otherwise. */
    public static void startIfAsked() {
        Long pid = Long.getLong(PARENT_PID);
        if (pid == null) {
            return;
        }
        ProcessHandle.of(pid).ifPresentOrElse(parent -> parent.onExit().thenRun(() -> stop(pid)), () -> stop(pid));
    }

    private static void stop(long pid) {
        System.err.println("the launcher (pid " + pid + ") is gone: stopping");
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(GRACE.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("stopping took longer than " + GRACE.toSeconds() + " s: halting");
            Runtime.getRuntime().halt(1);
        }, "parent-watch-halt");
        halt.setDaemon(true);
        halt.start();
        System.exit(1);
    }
}
