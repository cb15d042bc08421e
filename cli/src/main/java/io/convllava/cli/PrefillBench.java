package io.convllava.cli;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.llm.cpu.TorchProducts;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.ShardInput;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The prompt-processing part of {@code convllava bench --prefill-tokens N}: the decoder's first K layers loaded once
 * per engine in one process (by default the Java engine on 16-bit weights and libtorch on float32 weights), and a
 * prompt of N random token ids processed by each in turn, the order reversed every round, so that their ratios come
 * from one run on a shared machine: each round's ratio compares runs seconds apart, and the median of those is the
 * figure to read.
 */
final class PrefillBench {
    /** The engines this can load: name, engine property, prefill-products property (null: left as it is). */
    private record Variant(String name, String engine, String prefill) {
    }

    private static final List<Variant> VARIANTS = List.of(
            new Variant("cpu", "cpu", null),
            new Variant("cpu-java", "cpu", "java"),
            new Variant("cpu-torch", "cpu", "torch"),
            new Variant("djl", "djl", null));

    private PrefillBench() {
    }

    static void run(ModelFiles files, int positions, Integer layerCount, String engineList, int rounds,
                    PrintStream out) {
        LlmConfig cfg = files.llmConfig();
        int layers = layerCount == null ? cfg.numHiddenLayers() : layerCount;
        if (layers < 1 || layers > cfg.numHiddenLayers()) {
            throw new UsageException("--prefill-layers must be in [1, " + cfg.numHiddenLayers() + "], got " + layers);
        }
        if (positions < 1 || positions > cfg.maxPositionEmbeddings()) {
            throw new UsageException("--prefill-tokens must be in [1, " + cfg.maxPositionEmbeddings() + "], got "
                    + positions);
        }
        List<Variant> variants = new ArrayList<>();
        for (String name : engineList.split(",")) {
            variants.add(VARIANTS.stream().filter(v -> v.name().equals(name.trim())).findFirst().orElseThrow(() ->
                    new UsageException("--prefill-engines: unknown engine '" + name + "' (cpu, cpu-java, cpu-torch,"
                            + " djl)")));
        }
        Variant reference = variants.get(variants.size() - 1);
        int[] ids = new Random(42).ints(positions, 3, cfg.vocabSize()).toArray();
        ShardInput input = new ShardInput.Segments(List.of(new PromptSegment.Tokens(ids)));
        List<LlamaShard> shards = new ArrayList<>();
        try {
            load(files, cfg, layers, variants, shards, out);
            for (LlamaShard shard : shards) {
                prefill(shard, input); // first-call costs: libtorch, JIT, buffers
            }
            int n = variants.size();
            double[][] seconds = new double[n][rounds];
            double[][] ratios = new double[n][rounds]; // tokens/s of variant v / the reference's, per round
            for (int round = 0; round < rounds; round++) {
                for (int k = 0; k < n; k++) {
                    int v = round % 2 == 0 ? k : n - 1 - k;
                    seconds[v][round] = prefill(shards.get(v), input);
                    out.printf("prefill bench: round %d, %s: %d positions in %.2f s = %.1f tokens/s%n", round + 1,
                            variants.get(v).name(), positions, seconds[v][round], positions / seconds[v][round]);
                }
                for (int v = 0; v < n; v++) {
                    ratios[v][round] = seconds[n - 1][round] / seconds[v][round];
                }
            }
            out.printf("prefill %d positions, %d layers, %d rounds (tokens/s; / %s: ratio of tokens/s within each"
                    + " round)%n", positions, layers, rounds, reference.name());
            for (int v = 0; v < n; v++) {
                out.printf("  %-9s median %.1f tokens/s, best %.1f; / %s: median %.3f (rounds: %s)%n",
                        variants.get(v).name(), positions / median(seconds[v]), positions / min(seconds[v]),
                        reference.name(), median(ratios[v]), format(ratios[v]));
            }
        } finally {
            shards.forEach(LlamaShard::close);
        }
    }

    private static void load(ModelFiles files, LlmConfig cfg, int layers, List<Variant> variants,
                             List<LlamaShard> shards, PrintStream out) {
        String engine = System.getProperty(LlamaShard.ENGINE_PROPERTY);
        String prefill = System.getProperty(TorchProducts.PROPERTY);
        try (TensorSource weights = files.openLlmWeights()) {
            for (Variant v : variants) {
                System.setProperty(LlamaShard.ENGINE_PROPERTY, v.engine());
                restore(TorchProducts.PROPERTY, v.prefill() != null ? v.prefill() : prefill);
                long t0 = System.nanoTime();
                LlamaShard shard = LlamaShard.load(cfg, weights, 0, layers, "cpu");
                shards.add(shard);
                out.printf("prefill bench: %s (engine %s%s) loaded %d layers in %.1f s%n", v.name(),
                        shard.engineName(), v.engine().equals("cpu") ? ", prompt products on "
                        + System.getProperty(TorchProducts.PROPERTY, TorchProducts.DEFAULT) : "", layers,
                        (System.nanoTime() - t0) / 1e9);
            }
        } finally {
            restore(LlamaShard.ENGINE_PROPERTY, engine);
            restore(TorchProducts.PROPERTY, prefill);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    private static double prefill(LlamaShard shard, ShardInput input) {
        long t0 = System.nanoTime();
        shard.forward("prefill-bench", input);
        double seconds = (System.nanoTime() - t0) / 1e9;
        shard.release("prefill-bench");
        return seconds;
    }

    private static String format(double[] values) {
        StringBuilder b = new StringBuilder();
        for (double v : values) {
            b.append(b.length() == 0 ? "" : " ").append(String.format("%.2f", v));
        }
        return b.toString();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }
}
