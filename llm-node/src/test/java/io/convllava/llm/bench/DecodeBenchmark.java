package io.convllava.llm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.llm.model.LlamaShard;
import io.convllava.llm.model.LoadProgress;
import io.convllava.llm.model.ShardInput;
import io.convllava.llm.model.ShardOutput;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Decoder speed on random weights (no files): load time, prefill time, batch-1 decode tokens/s, and the
 * memory-bandwidth bound of decode (bytes of weights read per token / streaming-read bandwidth measured in the same
 * run by summing a large native float buffer with the same engine and threads).
 *
 * <p>Run from the project root (defaults: a TinyLlama-1.1B shape, hidden 2048, 22 layers, 32 heads / 4 KV heads,
 * FFN 5632, vocab 32000, a 300-token prompt, 32 decoded tokens, on the CPU):
 * <pre>
 * mvn -q -o -pl llm-node -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=test
 * DJL_CACHE_DIR=.cache/djl java -Xmx2g -Dai.djl.pytorch.num_threads=2 \
 *     -cp llm-node/target/test-classes:llm-node/target/classes:$(cat llm-node/target/classpath.txt) \
 *     io.convllava.llm.bench.DecodeBenchmark [--hidden 2048] [--layers 22] [--heads 32] [--kv-heads 4]
 *     [--ffn 5632] [--vocab 32000] [--prompt 300] [--tokens 32] [--device cpu|gpu] [--bandwidth-gib 2]
 * </pre>
 */
public final class DecodeBenchmark {
    private DecodeBenchmark() {
    }

    public static void main(String[] args) {
        Map<String, String> options = parse(args);
        int hidden = intOption(options, "hidden", 2048);
        int layers = intOption(options, "layers", 22);
        int heads = intOption(options, "heads", 32);
        int kvHeads = intOption(options, "kv-heads", 4);
        int ffn = intOption(options, "ffn", 5632);
        int vocab = intOption(options, "vocab", 32000);
        int promptLength = intOption(options, "prompt", 300);
        int tokens = intOption(options, "tokens", 32);
        double bandwidthGib = Double.parseDouble(options.getOrDefault("bandwidth-gib", "2"));
        String device = options.getOrDefault("device", "cpu");
        LlmConfig cfg = new LlmConfig(vocab, hidden, ffn, layers, heads, kvHeads, 4096, 1e-5, 10000.0, false,
                1, 2, 0, "float32", null, 0, null, -1, null, false, 2048);
        int bytesPerValue = device.equals("cpu") ? 4 : 2;

        System.out.printf("config: hidden %d, layers %d, heads %d / %d KV, FFN %d, vocab %d; device %s, threads %s%n",
                hidden, layers, heads, kvHeads, ffn, vocab, device,
                System.getProperty("ai.djl.pytorch.num_threads", "default"));
        double bandwidth = streamingReadBandwidth(device, bandwidthGib);
        System.out.printf("streaming read bandwidth: %.1f GB/s (sum over %.1f GiB, best of 5)%n", bandwidth / 1e9,
                bandwidthGib);

        long t0 = System.nanoTime();
        try (RandomLlamaWeights weights = new RandomLlamaWeights(cfg, 42);
             LlamaShard shard = LlamaShard.load(cfg, weights, 0, layers, device, LoadProgress.silent())) {
            System.out.printf("load (random weights generated while loading): %.2f s%n", (System.nanoTime() - t0) / 1e9);

            Random random = new Random(7);
            int[] prompt = new int[promptLength];
            for (int i = 0; i < promptLength; i++) {
                prompt[i] = 3 + random.nextInt(vocab - 3);
            }
            long p0 = System.nanoTime();
            ShardOutput out = shard.forward("bench", new ShardInput.Segments(List.of(new PromptSegment.Tokens(prompt))));
            double prefillSeconds = (System.nanoTime() - p0) / 1e9;
            System.out.printf("prefill %d tokens: %.3f s (%.0f tokens/s)%n", promptLength, prefillSeconds,
                    promptLength / prefillSeconds);

            int next = argMax(out.logits().data());
            for (int i = 0; i < 3; i++) { // warm-up steps, not timed
                next = argMax(step(shard, next));
            }
            long d0 = System.nanoTime();
            for (int i = 0; i < tokens; i++) {
                next = argMax(step(shard, next));
            }
            double perToken = (System.nanoTime() - d0) / 1e9 / tokens;

            long weightBytes = decodeWeightBytes(cfg, bytesPerValue);
            double bound = bandwidth / weightBytes;
            System.out.printf("decode (context %d-%d): %.1f ms/token = %.2f tokens/s%n", promptLength + 3,
                    promptLength + 3 + tokens, perToken * 1e3, 1 / perToken);
            System.out.printf("bandwidth bound: %.2f GB of weights per token / %.1f GB/s = %.2f tokens/s; "
                    + "decode reaches %.0f%% of it%n", weightBytes / 1e9, bandwidth / 1e9, bound,
                    100 / perToken / bound);
        }
    }

    private static float[] step(LlamaShard shard, int token) {
        return shard.forward("bench", new ShardInput.Segments(List.of(new PromptSegment.Tokens(new int[] {token}))))
                .logits().data();
    }

    /** Bytes a decode step must stream: every layer's matrices and norms, the final norm and lm_head (one embedding row aside). */
    static long decodeWeightBytes(LlmConfig cfg, int bytesPerValue) {
        long h = cfg.hiddenSize();
        long q = (long) cfg.numAttentionHeads() * cfg.headDim();
        long kv = (long) cfg.numKeyValueHeads() * cfg.headDim();
        long perLayer = h * (q + 2 * kv) + q * h + 3 * h * cfg.intermediateSize() + 2 * h;
        return (perLayer * cfg.numHiddenLayers() + h + h * cfg.vocabSize()) * bytesPerValue;
    }

    /** Bytes per second of summing a large native float32 array (pages touched before timing). */
    static double streamingReadBandwidth(String device, double gib) {
        Device target = device.equals("cpu") ? Device.cpu() : Device.gpu();
        long floats = (long) (gib * (1L << 30) / Float.BYTES);
        try (NDManager manager = NDManager.newBaseManager(target, "PyTorch")) {
            NDArray data = manager.ones(new Shape(floats), DataType.FLOAT32);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 6; i++) {
                long t0 = System.nanoTime();
                try (NDArray sum = data.sum()) {
                    sum.getFloat(); // waits for the result (and for the GPU)
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (i > 0) {
                    best = Math.min(best, seconds);
                }
            }
            return floats * Float.BYTES / best;
        }
    }

    private static int argMax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    private static int intOption(Map<String, String> options, String name, int fallback) {
        return options.containsKey(name) ? Integer.parseInt(options.get(name)) : fallback;
    }
}
