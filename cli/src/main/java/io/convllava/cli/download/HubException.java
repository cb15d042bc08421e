package io.convllava.cli.download;

/** A download that cannot go on, with a message fit for the user: what failed, and what to do about it. */
public final class HubException extends RuntimeException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
