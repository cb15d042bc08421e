package io.convllava.common.transport;

import java.io.IOException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Locale;

/** A failure to listen on a port, told plainly: which port on which address, why, and what to do. */
public final class BindFailure {
    private BindFailure() {
    }

    /**
     * @param what  the server that could not start, e.g. {@code vision-node}
     * @param cause what binding threw (socket and Netty messages vary; the whole cause chain is read)
     */
    public static IOException explain(String what, String host, int port, Exception cause) {
        return explain(what, host, port, "--port", cause);
    }

    /** As {@link #explain(String, String, int, Exception)}, for a port chosen by the flag {@code option}. */
    public static IOException explain(String what, String host, int port, String option, Exception cause) {
        String reason = causes(cause).toLowerCase(Locale.ROOT);
        String where = "port " + port + " on " + host;
        String message;
        if (reason.contains("in use")) {
            message = where + " is already in use (another process listens there): stop it or pick another " + option;
        } else if (reason.contains("assign requested address") || isUnresolved(cause)) {
            message = "cannot listen on " + where + ": " + host + " is not an address of this machine: use one of"
                    + " its addresses, or 0.0.0.0 for all of them";
        } else if (reason.contains("permission denied")) {
            message = "cannot listen on " + where + ": ports below 1024 need root: pick a higher " + option;
        } else {
            message = "cannot listen on " + where + " (" + rootMessage(cause) + "): check the address, or pick another "
                    + option;
        }
        return new IOException(what + ": " + message, cause);
    }

    private static boolean isUnresolved(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return true;
            }
        }
        return false;
    }

    private static String causes(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return String.valueOf(root.getMessage());
    }
}
