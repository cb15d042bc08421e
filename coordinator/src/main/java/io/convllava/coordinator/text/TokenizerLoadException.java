package io.convllava.coordinator.text;

/** A tokenizer file is missing, unreadable or describes something we do not support; the message names the file. */
public class TokenizerLoadException extends RuntimeException {
    public TokenizerLoadException(String message) {
        super(message);
    }

    public TokenizerLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
