package io.convllava.coordinator.generate;

/** Why generation ended. */
public enum FinishReason {
    /** The model produced its end-of-sequence token. */
    STOP,
    /** max_new_tokens or the context length was reached. */
    LENGTH,
    /** One of the request's stop strings appeared; it is not part of the text. */
    STOP_STRING
}
