package io.convllava.cli.eval;

/** The model under evaluation: a cluster through the public API, or the model in this process. */
public interface Answerer extends AutoCloseable {

    /**
     * The model's greedy answer to {@code question} about the image {@code image} (encoded file bytes).
     *
     * @throws QuestionRefusedException when this question cannot be answered (its image is unreadable, its prompt too
     *                                  long): the run goes on without it; any other exception stops the run
     */
    String answer(EvalQuestion question, byte[] image);

    /** Where the answers come from, for the score table's header: "127.0.0.1:50051" or a model folder. */
    String describe();

    @Override
    void close();
}
