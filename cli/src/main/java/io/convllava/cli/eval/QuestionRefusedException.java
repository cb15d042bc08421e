package io.convllava.cli.eval;

/** A question the model cannot be asked (a bad image, a prompt too long): the run goes on without it. */
public final class QuestionRefusedException extends RuntimeException {
    public QuestionRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
