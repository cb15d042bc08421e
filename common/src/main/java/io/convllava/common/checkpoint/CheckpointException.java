package io.convllava.common.checkpoint;

/** A checkpoint or config file that cannot be used; the message names the file and the key or field at fault. */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
