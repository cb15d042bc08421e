package io.convllava.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.convllava.cli.eval.Answerer;
import io.convllava.cli.eval.BenchmarkFormatException;
import io.convllava.cli.eval.EvalRun;
import io.convllava.cli.eval.LoadedBenchmark;
import io.convllava.cli.eval.LocalAnswerer;
import io.convllava.cli.eval.PredictionsFile;
import io.convllava.cli.eval.ProgressLine;
import io.convllava.cli.eval.PromptStyle;
import io.convllava.cli.eval.RemoteAnswerer;
import io.convllava.cli.eval.ScoreTable;
import io.convllava.cli.eval.Task;
import io.convllava.cli.local.LocalEngine;
import io.convllava.coordinator.text.ConversationTemplate;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code convllava eval}: scores a model on one of the paper's benchmarks, read in the benchmark's own files, with its
 * reference prompts and scoring, through a cluster ({@code --target}) or in this process ({@code --model}). Answers
 * are appended to {@code <out>/predictions.jsonl} as they come, so a rerun asks only what is missing; the score table
 * goes to stdout and to {@code <out>/scores.txt} and {@code scores.json}.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        subcommands = {EvalShapesCommand.class},
        description = {"Score a model on a benchmark of the ConvLLaVA paper (POPE, RefCOCO, TextVQA, DocVQA, MME,"
                + " MMBench), read in its own file format, with its reference prompts and scoring.",
                "Answers go to <out>/predictions.jsonl as they come: run the same command again to finish an"
                        + " interrupted run. 'eval generate-shapes' writes a benchmark of each format for the demo"
                        + " model. See docs/evaluation.md."})
final class EvalCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Spec
    private CommandSpec spec;

    @Option(names = "--task", paramLabel = "pope|refcoco|textvqa|docvqa|mme|mmbench",
            description = "The benchmark, which decides the file format, the prompts and the scoring.")
    String task;

    @Option(names = "--data", paramLabel = "FILE", description = "The benchmark's questions: POPE's JSON lines,"
            + " RefCOCO's JSON lines (InternVL), TextVQA's or DocVQA's annotation JSON, MMBench's TSV, or MME's release"
            + " folder.")
    Path data;

    @Option(names = "--images", paramLabel = "DIR", description = "Folder the data's image paths are relative to"
            + " (default: the data file's folder).")
    Path images;

    @Option(names = "--target", paramLabel = "HOST:PORT[,HOST:PORT...]", description = "A running cluster's"
            + " coordinator(s); or --model to load the model in this process.")
    String target;

    @Option(names = "--tls-ca", paramLabel = "PEM", description = "With --target: verify the coordinator's TLS"
            + " certificate against this authority.")
    Path tlsCa;

    @Option(names = "--token-file", paramLabel = "FILE", description = "With --target: send the first token of this"
            + " file as a bearer token.")
    Path tokenFile;

    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOption device;

    @Option(names = "--template", defaultValue = "vicuna_v1", paramLabel = "vicuna_v1|llava_v1",
            completionCandidates = TemplateNames.class,
            description = "Conversation template (default: ${DEFAULT-VALUE}; VLMEvalKit used llava_v1 for the paper's"
                    + " MME and MMBench).")
    String template;

    @Option(names = "--prompt-style", defaultValue = "reference", paramLabel = "reference|bare",
            description = "reference: the benchmark's prompt (its answer instruction, MMBench's lettered options);"
                    + " bare: the question alone, for models trained on bare questions such as the demo model"
                    + " (default: ${DEFAULT-VALUE}).")
    String promptStyle;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Most tokens per answer (default: 100 for"
            + " RefCOCO, 128 for the others, as the reference evaluations).")
    Integer maxNewTokens;

    @Option(names = "--concurrency", defaultValue = "4", paramLabel = "N",
            description = "Questions in flight at once (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--timeout-s", defaultValue = "600", paramLabel = "SECONDS",
            description = "Deadline of each --target request (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--out", paramLabel = "DIR", description = "Where predictions.jsonl, scores.txt and scores.json go"
            + " (default: eval-results/<task>).")
    Path out;

    @Option(names = "--json", description = "Print the score table as JSON instead of text.")
    boolean json;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Task chosen = task();
        if (data == null) {
            throw new UsageException("missing --data FILE: the benchmark's questions");
        }
        if ((target == null) == (model.model == null)) {
            throw new UsageException("give either --target host:port (a running cluster) or --model DIR (this"
                    + " process)");
        }
        PromptStyle style = style();
        checkTemplate();
        if (concurrency < 1) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--concurrency': must be at"
                    + " least 1, not " + concurrency);
        }
        int tokens = maxNewTokens != null ? maxNewTokens : chosen.defaultMaxNewTokens();
        if (tokens < 1) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--max-new-tokens': must be"
                    + " at least 1, not " + tokens);
        }
        Path imageDir = images != null ? images : Files.isDirectory(data) ? data : parentOf(data);
        LoadedBenchmark benchmark;
        try {
            benchmark = chosen.load(data, imageDir, style);
        } catch (BenchmarkFormatException e) {
            throw new CommandFailedException(e.getMessage());
        }
        Path outDir = out != null ? out : Path.of("eval-results", chosen.label());
        PrintStream err = main.err();
        EvalRun.Outcome outcome;
        try (PredictionsFile predictions = PredictionsFile.open(outDir.resolve("predictions.jsonl"));
             CoordinatorChannels channels = target != null ? new CoordinatorChannels(target, tlsCa, tokenFile) : null;
             Answerer answerer = answerer(channels, tokens, err)) {
            if (predictions.droppedUnfinishedLine()) {
                err.println("eval: dropped the unfinished last line of " + predictions.path());
            }
            outcome = EvalRun.run(benchmark.questions(), answerer, predictions, concurrency,
                    ProgressLine.on(err, chosen.label(), System.console() != null));
        } catch (BenchmarkFormatException e) {
            throw new CommandFailedException(e.getMessage());
        } catch (StatusRuntimeException e) {
            throw new CommandFailedException(RemoteCallErrors.describe(e, "the coordinator", target)
                    + "; the answers so far are kept, run the same command again to go on");
        }
        if (!outcome.failures().isEmpty()) {
            List<String> failures = outcome.failures();
            failures.stream().limit(5).forEach(f -> err.println("eval: question " + f));
            throw new CommandFailedException(failures.size() + " question(s) could not be asked (first: "
                    + failures.get(0) + "); no score without them. The other answers are in " + outDir.resolve(
                    "predictions.jsonl") + "; run again to retry these");
        }
        report(chosen, style, tokens, benchmark.score(outcome.answers()), benchmark.questions().size(), outDir);
        return 0;
    }

    /** Through the cluster when {@code channels} is given, else the model loaded here. */
    private Answerer answerer(CoordinatorChannels channels, int tokens, PrintStream err) {
        if (channels != null) {
            return new RemoteAnswerer(channels.calls(), target, template, tokens, Duration.ofSeconds(timeoutSeconds),
                    why -> err.println("\n" + why + "; retrying on the next coordinator"));
        }
        return new LocalAnswerer(LocalEngine.load(model.files(), device.device, null, err::println), model.model,
                template, tokens);
    }

    /** The table, headed by what was run, on stdout and in {@code scores.txt} and {@code scores.json}. */
    private void report(Task chosen, PromptStyle style, int tokens, ScoreTable table, int requests, Path outDir)
            throws IOException {
        String answersBy = target != null ? target : model.model;
        String header = chosen.label() + " on " + data + " (" + requests + " requests, " + style.label() + " prompts, "
                + template + ", answers by " + answersBy + ")";
        JsonObject run = new JsonObject();
        run.addProperty("data", data.toString());
        run.addProperty("requests", requests);
        run.addProperty("prompt_style", style.label());
        run.addProperty("template", template);
        run.addProperty("max_new_tokens", tokens);
        run.addProperty("answers_by", answersBy);
        JsonObject scores = table.toJson();
        scores.add("run", run);
        String scoresJson = new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create().toJson(scores);
        Files.writeString(outDir.resolve("scores.txt"), header + "\n" + table.toText());
        Files.writeString(outDir.resolve("scores.json"), scoresJson + "\n");
        main.out().print(json ? scoresJson + "\n" : header + "\n" + table.toText());
        main.out().flush();
    }

    /** Where results go: the launcher's stdout. */
    PrintStream mainOut() {
        return main.out();
    }

    private Task task() {
        if (task == null) {
            throw new UsageException("missing --task " + Task.names() + " (or the command 'eval generate-shapes')");
        }
        try {
            return Task.byName(task);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--task': " + e.getMessage());
        }
    }

    private PromptStyle style() {
        try {
            return PromptStyle.byName(promptStyle);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--prompt-style': "
                    + e.getMessage());
        }
    }

    private void checkTemplate() {
        try {
            ConversationTemplate.byName(template);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--template': "
                    + e.getMessage());
        }
    }

    private static Path parentOf(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent != null ? parent : Path.of(".");
    }
}
