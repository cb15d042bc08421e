package io.convllava.vision.image;

/** The bytes sent as an image cannot be decoded: empty, truncated, an unsupported format, or too large. */
public class InvalidImageException extends RuntimeException {

    public InvalidImageException(String message) {
        super(message);
    }

    public InvalidImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
