package io.convllava.cli.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Asks a benchmark's questions that the predictions file does not answer yet, {@code concurrency} at a time, and
 * appends each answer as it comes. A question the model refuses is reported and left for the next run; any other
 * failure stops the run (the answers so far stay in the file).
 */
public final class EvalRun {
    private EvalRun() {
    }

    /**
     * What the run ended with.
     *
     * @param answers  every answer, earlier runs' included, by question id
     * @param resumed  how many came from an earlier run
     * @param failures "id: why" for each question that could not be asked
     */
    public record Outcome(Map<String, String> answers, int resumed, int asked, List<String> failures) {
    }

    /**
     * @throws BenchmarkFormatException when the predictions file belongs to another run (other questions or prompts)
     */
    public static Outcome run(List<EvalQuestion> questions, Answerer answerer, PredictionsFile predictions,
                              int concurrency, ProgressLine.Factory progress) throws InterruptedException {
        Map<String, String> answers = new LinkedHashMap<>(resumedAnswers(questions, predictions));
        int resumed = answers.size();
        List<EvalQuestion> todo = questions.stream().filter(q -> !answers.containsKey(q.id())).toList();
        ProgressLine line = progress.start(questions.size(), resumed);
        Map<String, String> fresh = Collections.synchronizedMap(new HashMap<>());
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger next = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        int threads = Math.max(1, Math.min(concurrency, todo.size()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "eval-request");
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            workers.add(pool.submit(() -> {
                int n;
                while (!stop.get() && (n = next.getAndIncrement()) < todo.size()) {
                    EvalQuestion q = todo.get(n);
                    try {
                        String text = answerer.answer(q, read(q));
                        predictions.append(new Prediction(q.id(), q.image().name(), q.prompt(), text));
                        fresh.put(q.id(), text);
                        line.advance(true);
                    } catch (QuestionRefusedException e) {
                        failures.add(q.id() + ": " + e.getMessage());
                        line.advance(false);
                    } catch (RuntimeException | Error e) {
                        stop.set(true);
                        throw e;
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        RuntimeException fatal = null;
        try {
            for (Future<?> worker : workers) {
                try {
                    worker.get();
                } catch (ExecutionException e) {
                    if (fatal == null) {
                        Throwable cause = e.getCause();
                        fatal = cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
                    }
                }
            }
        } catch (InterruptedException e) {
            stop.set(true);
            pool.shutdownNow();
            throw e;
        } finally {
            line.finish();
        }
        if (fatal != null) {
            throw fatal;
        }
        for (EvalQuestion q : questions) {
            String text = fresh.get(q.id());
            if (text != null) {
                answers.put(q.id(), text);
            }
        }
        return new Outcome(answers, resumed, fresh.size(), List.copyOf(failures));
    }

    /** The file's answers, checked to belong to these questions with these prompts. */
    private static Map<String, String> resumedAnswers(List<EvalQuestion> questions, PredictionsFile predictions) {
        Map<String, EvalQuestion> byId = new HashMap<>();
        questions.forEach(q -> byId.put(q.id(), q));
        Map<String, String> answers = new LinkedHashMap<>();
        for (Prediction p : predictions.existing().values()) {
            EvalQuestion q = byId.get(p.id());
            if (q == null) {
                throw new BenchmarkFormatException(predictions.path() + " answers question '" + p.id() + "', which"
                        + " the data has not: it belongs to another benchmark; give another --out or delete it");
            }
            if (p.prompt() != null && !p.prompt().equals(q.prompt())) {
                throw new BenchmarkFormatException(predictions.path() + " answers question '" + p.id() + "' asked"
                        + " differently (another --prompt-style or data file): give another --out or delete it");
            }
            answers.put(p.id(), p.text());
        }
        return answers;
    }

    private static byte[] read(EvalQuestion q) {
        try {
            return q.image().read();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the image " + q.image().name() + " of question '" + q.id()
                    + "': " + e.getMessage(), e);
        }
    }
}
