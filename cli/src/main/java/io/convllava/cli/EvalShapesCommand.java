package io.convllava.cli;

import io.convllava.cli.eval.shapes.ShapesBenchmarkWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code convllava eval generate-shapes}: a benchmark of generated shapes scenes in each benchmark's file format,
 * for scoring the demo model end to end ({@link ShapesBenchmarkWriter}).
 */
@Command(name = "generate-shapes", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a benchmark of generated shapes scenes (like the demo model's training scenes) in the"
                + " file format of every task of 'convllava eval', to score the demo model end to end.",
                "The same seed gives the same scenes; scene i does not depend on --scenes."})
final class EvalShapesCommand implements Callable<Integer> {
    @ParentCommand
    private EvalCommand eval;

    @Spec
    private CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write the benchmark to.")
    Path out;

    @Option(names = "--scenes", defaultValue = "128", paramLabel = "N",
            description = "Scenes (default: ${DEFAULT-VALUE}).")
    int scenes;

    @Option(names = "--seed", defaultValue = "7", paramLabel = "S", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws IOException {
        if (scenes < 1) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--scenes': must be at least 1,"
                    + " not " + scenes);
        }
        ShapesBenchmarkWriter.Summary summary = ShapesBenchmarkWriter.write(out, scenes, seed);
        PrintStream stdout = eval.mainOut();
        stdout.println("wrote " + summary.scenes() + " scenes (seed " + seed + ") to " + out + ":");
        for (Map.Entry<String, Integer> file : summary.questions().entrySet()) {
            stdout.printf("  %-14s %4d questions%n", file.getKey(), file.getValue());
        }
        stdout.println("score the demo model with, e.g.:");
        stdout.println("  convllava eval --task textvqa --data " + out.resolve("textvqa.json") + " --images "
                + out.resolve("images") + " --target 127.0.0.1:50051 --prompt-style bare");
        return 0;
    }
}
