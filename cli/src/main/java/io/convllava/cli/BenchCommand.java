package io.convllava.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.checkpoint.DType;
import io.convllava.common.checkpoint.SafetensorsWriter;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.coordinator.generate.FinishReason;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.GenerationResult;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.generate.TokenListener;
import io.convllava.cli.bench.BenchImages;
import io.convllava.cli.local.LocalEngine;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code convllava bench}: the in-process engine on a realistic mid-size random-weight ConvLLaVA (default: a
 * TinyLlama-1.1B-shaped decoder with grouped-query attention, the full ConvNeXt-L tower + 5th stage at 768 px),
 * written once as a bf16 safetensors checkpoint in the released layout and then loaded by the real loading path.
 * Prints load, encode, prefill and decode times next to this machine's memory-bandwidth bound for decode. With
 * {@code --model DIR|ORG/NAME} it benches that model instead (e.g. the demo model, for the fixed per-step cost of
 * decode).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        subcommands = {BenchServingCommand.class, BenchScaleCommand.class, BenchFailoverCommand.class},
        description = {"In-process speed on a mid-size random-weight ConvLLaVA (default: a TinyLlama-1.1B-shaped"
                + " decoder and the ConvNeXt-L tower + 5th stage at 768 px), written once as bf16 safetensors and"
                + " loaded by the real path: load, encode, prefill and decode times beside this machine's"
                + " memory-bandwidth bound. --model benches a model folder instead. 'bench serving' measures"
                + " serving through a local cluster, 'bench failover' the stall of a stream whose node is killed. See"
                + " docs/benchmarks.md and docs/reliability.md."})
final class BenchCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Option(names = "--model", paramLabel = "DIR|ORG/NAME", description = "Bench this model (a folder, or a hub id"
            + " in the hub cache) instead of the random one (its tokenizer and preprocessing; the shape options are"
            + " then ignored). The request is the demo's grounding question on samples/" + SAMPLE_IMAGE + " of the"
            + " model, or on a synthetic image if there is none.")
    String model;

    @Mixin
    HubCacheOption hubCache;

    @Option(names = "--hidden", defaultValue = "2048", description = "Decoder hidden size (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--layers", defaultValue = "22", description = "Decoder layers (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--heads", defaultValue = "32", description = "Attention heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "4", description = "Key/value heads (default: ${DEFAULT-VALUE}).")
    int kvHeads;

    @Option(names = "--ffn", defaultValue = "5632", description = "Feed-forward size (default: ${DEFAULT-VALUE}).")
    int ffn;

    @Option(names = "--vocab", defaultValue = "32000", description = "Vocabulary size (default: ${DEFAULT-VALUE}).")
    int vocab;

    @Option(names = "--tower-depths", defaultValue = "3,3,27,3,6", paramLabel = "D1,D2,...",
            description = "ConvNeXt blocks per stage (default: ${DEFAULT-VALUE}).")
    String towerDepths;

    @Option(names = "--tower-widths", defaultValue = "192,384,768,1536,3072", paramLabel = "W1,W2,...",
            description = "ConvNeXt channels per stage (default: ${DEFAULT-VALUE}).")
    String towerWidths;

    @Option(names = "--resolution", defaultValue = "768", description = "Image side in pixels (default:"
            + " ${DEFAULT-VALUE}).")
    int resolution;

    @Mixin
    DeviceOption device;

    @Option(names = "--tokens", defaultValue = "32", description = "Most tokens to generate per request (default:"
            + " ${DEFAULT-VALUE}); a real model may stop earlier, at end-of-sequence.")
    int tokens;

    @Option(names = "--runs", defaultValue = "1", paramLabel = "N", description = "Timed requests after the warm-up"
            + " (requests for 2 s, at least one); decode speed is reported as their median and best"
            + " (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where the random checkpoint is written once and"
            + " reused (default: a folder in the temporary directory named after the shape).")
    Path dir;

    @Option(names = "--write-only", description = "Write the random checkpoint (if --dir has none) and stop: for"
            + " 'bench scale' and other runs of a model too large to load twice.")
    boolean writeOnly;

    @Option(names = "--bandwidth-mib", defaultValue = "2048", paramLabel = "MIB",
            description = "Size of the array summed to measure memory bandwidth (default: ${DEFAULT-VALUE}).")
    int bandwidthMib;

    @Option(names = "--vision-1536", description = "Also encode at 1536 px: time, FLOP/s and peak memory beside its"
            + " estimate.")
    boolean vision1536;

    @Option(names = "--vision-serving", description = "Also time a vision node on loopback: an image encoded cold"
            + " against the same image from the embedding cache, and " + VisionServingBench.IMAGES + " distinct "
            + VisionServingBench.SIDE + " px images one after another against all at once.")
    boolean visionServing;

    @Option(names = "--vision-only", description = "Skip the decoder: no generation, only the vision lines.")
    boolean visionOnly;

    @Option(names = "--prefill-tokens", paramLabel = "N", description = "Instead of the request: load the decoder"
            + " once per engine of --prefill-engines and time a prompt of N random tokens through each, in turn, --runs"
            + " rounds; prints each and its ratio to the last engine's speed.")
    Integer prefillTokens;

    @Option(names = "--prefill-engines", defaultValue = "cpu,djl", paramLabel = "E1,E2,...", description = "With"
            + " --prefill-tokens: cpu (the Java engine as configured), cpu-java or cpu-torch (its prompt products in"
            + " Java or on libtorch), djl (libtorch on float32 weights); the last is the reference (default:"
            + " ${DEFAULT-VALUE}).")
    String prefillEngines;

    @Option(names = "--prefill-layers", paramLabel = "K", description = "With --prefill-tokens: only the first K"
            + " decoder layers (default: all; a shorter run, the same ratio per layer).")
    Integer prefillLayers;

    static final String SAMPLE_IMAGE = "sample-ground-1.png";
    /** Warm-up requests run until this long has passed (at least one). */
    private static final long WARM_UP_NANOS = TimeUnit.SECONDS.toNanos(2);

    /** Decoder and tower sizes of the random benchmark model. */
    record Shape5(int hidden, int layers, int heads, int kvHeads, int ffn, int vocab, int[] towerDepths,
                  int[] towerWidths, int resolution) {
    }

    /** Weight bytes one decode step reads: every layer, the final norm and the LM head. */
    static long decodeWeightBytes(LlmConfig c, int bytesPerValue) {
        long h = c.hiddenSize();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long perLayer = h * (h + 2 * kv) + h * h + 3 * h * c.intermediateSize() + 2 * h;
        return (perLayer * c.numHiddenLayers() + h + h * c.vocabSize()) * bytesPerValue;
    }

    Main main() {
        return main;
    }

    @Override
    public Integer call() throws IOException {
        PrintStream out = main.out();
        if (runs < 1) {
            throw new UsageException("--runs must be >= 1, got " + runs);
        }
        String device = this.device.device;
        String threads = System.getProperty("ai.djl.pytorch.num_threads", "default");
        Path dir;
        GenerationRequest request;
        if (model != null) {
            dir = ModelFiles.locate(model, hubCache.dir);
            Path sample = dir.resolve("samples").resolve(SAMPLE_IMAGE);
            byte[] image = Files.isRegularFile(sample) ? Files.readAllBytes(sample) : BenchImages.synthetic(1024, 768);
            request = request(DemoCommand.GROUND_QUESTION, image);
            out.printf("bench: model %s, the grounding question on %s; device %s, %s threads%n", model,
                    Files.isRegularFile(sample) ? sample : "a synthetic 1024x768 image", device, threads);
        } else {
            Shape5 s = new Shape5(hidden, layers, heads, kvHeads, ffn, vocab, ints(towerDepths), ints(towerWidths),
                    resolution);
            dir = this.dir != null ? this.dir : Path.of(System.getProperty("java.io.tmpdir"), "convllava-bench-"
                    + s.hidden() + "x" + s.layers() + "-" + s.resolution());
            request = request("Describe the image.", BenchImages.synthetic(1024, 768));
            out.printf("bench: decoder hidden %d, %d layers, %d heads / %d KV heads, FFN %d, vocab %d; tower depths"
                            + " %s widths %s at %d px; device %s, %s threads%n", s.hidden(), s.layers(), s.heads(),
                    s.kvHeads(), s.ffn(), s.vocab(), towerDepths, towerWidths, s.resolution(), device, threads);
            if (!Files.exists(dir.resolve("model.safetensors"))) {
                long t0 = System.nanoTime();
                writeCheckpoint(dir, s, out);
                out.printf("bench: wrote the random bf16 checkpoint to %s in %.1f s%n", dir,
                        (System.nanoTime() - t0) / 1e9);
            }
        }
        if (writeOnly) {
            return 0;
        }
        if (prefillTokens != null) {
            if (!device.equals("cpu")) {
                throw new UsageException("--prefill-tokens compares the CPU engines: use --device cpu");
            }
            PrefillBench.run(ModelFiles.resolve(dir.toString(), hubCache.dir, null), prefillTokens, prefillLayers,
                    prefillEngines, runs, out);
            return 0;
        }
        if (!visionOnly) {
            engine(dir, request, device, out);
        }
        ModelFiles vision = ModelFiles.resolve(dir.toString(), hubCache.dir, null);
        VisionBench.run(vision, device, vision1536, out);
        if (visionServing) {
            VisionServingBench.run(vision, device, out);
        }
        return 0;
    }

    /**
     * Load, warm-up requests for at least two seconds (at least one), then the timed ones: encode, prefill and decode,
     * each run's decode beside the bandwidth bound measured just before it (a VM's bandwidth moves within minutes).
     */
    private void engine(Path dir, GenerationRequest request, String device, PrintStream out) throws IOException {
        long t0 = System.nanoTime();
        ModelFiles files = ModelFiles.resolve(dir.toString(), hubCache.dir, null);
        try (LocalEngine engine = LocalEngine.load(files, device, null, line -> out.println("bench: " + line))) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            // warm-up: first-call costs of the engine, and the JIT's: a small model's kernels reach C2 only after
            // some hundred tokens (a request of the TinyLlama shape is longer than the whole warm-up)
            long warmUpEnd = System.nanoTime() + WARM_UP_NANOS;
            do {
                engine.generator().generate(request, TokenListener.NONE);
            } while (System.nanoTime() < warmUpEnd);
            // the Java engine streams the 16-bit weights; libtorch float32 on a CPU, float16 on a GPU
            boolean halfResident = engine.decoderEngine().equals("cpu") || !device.equals("cpu");
            long weightBytes = decodeWeightBytes(files.llmConfig(), halfResident ? 2 : 4);
            GenerationResult r = null;
            double[] encodeMs = new double[runs];
            double[] prefillMs = new double[runs];
            double[] decodeRates = new double[runs];
            double[] bandwidths = new double[runs];
            double[] ofBound = new double[runs];
            for (int i = 0; i < runs; i++) {
                bandwidths[i] = streamingReadBandwidth(device, bandwidthMib);
                r = engine.generator().generate(request, TokenListener.NONE);
                int generated = r.tokens().length;
                // the prefill gives the first token; every later token, and the end-of-sequence, is a decode step
                int steps = generated - 1 + (r.finishReason() == FinishReason.STOP ? 1 : 0);
                if (steps < 1) {
                    throw new CommandFailedException("the request generated " + generated + " token(s): nothing to"
                            + " time (raise --tokens)");
                }
                double decodeSeconds = (r.timings().totalMs() - r.timings().firstTokenMs()) / 1e3;
                encodeMs[i] = r.timings().encodeMs();
                prefillMs[i] = r.timings().prefillMs();
                decodeRates[i] = steps / decodeSeconds;
                ofBound[i] = decodeRates[i] * weightBytes / bandwidths[i];
                out.printf("run %d: %d tokens generated (%s), %d decode steps in %.1f ms = %.1f tokens/s"
                                + " (%.2f ms/token); bandwidth just before %.1f GB/s, %.0f%% of its bound%n", i + 1,
                        generated, r.finishReason() == FinishReason.STOP ? "ended by end-of-sequence"
                                : "cut at " + r.finishReason().name().toLowerCase(),
                        steps, decodeSeconds * 1e3, decodeRates[i], 1e3 / decodeRates[i], bandwidths[i] / 1e9,
                        100 * ofBound[i]);
            }
            double median = median(decodeRates);
            double best = Arrays.stream(decodeRates).max().orElseThrow();
            double bandwidth = median(bandwidths);
            double bound = bandwidth / weightBytes;
            out.printf("answer: %s%n", r.text());
            out.printf("load (tower + projector + %d layers; decoder engine %s): %.1f s%n",
                    files.llmConfig().numHiddenLayers(), engine.decoderEngine(), loadSeconds);
            out.printf("encode one image (decode, pad, resize, tower, projector; %d tokens): %.0f ms%n",
                    r.imageTokens(), median(encodeMs));
            out.printf("prefill %d positions (%d text + %d image): %.0f ms%n", r.promptTokens() + r.imageTokens(),
                    r.promptTokens(), r.imageTokens(), median(prefillMs));
            out.printf("decode, batch 1, %d run(s): median %.1f tokens/s (%.2f ms/token), best %.1f tokens/s"
                    + " (%.2f ms/token)%n", runs, median, 1e3 / median, best, 1e3 / best);
            out.printf("memory-bandwidth bound: %.3f GB of weights per token / %.1f GB/s measured (median of the"
                            + " runs') = %.1f tokens/s; decode reaches %.0f%% of it (the median of each run against"
                            + " the bandwidth measured just before it, %.0f-%.0f%%)%n", weightBytes / 1e9,
                    bandwidth / 1e9, bound, 100 * median(ofBound), 100 * Arrays.stream(ofBound).min().orElseThrow(),
                    100 * Arrays.stream(ofBound).max().orElseThrow());
        }
    }

    private GenerationRequest request(String question, byte[] image) {
        return new GenerationRequest(List.of(ChatMessage.user(question, 1)), List.of(ImageInput.ofBytes(image)),
                ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, tokens, List.of(), false, false);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Bytes per second of summing a large native float32 array with the engine (best of 5 after a warm-up). */
    static double streamingReadBandwidth(String device, int mib) {
        long floats = (long) mib * (1 << 20) / Float.BYTES;
        try (NDManager manager = NDManager.newBaseManager(device.equals("cpu") ? Device.cpu() : Device.gpu(), "PyTorch")) {
            NDArray data = manager.ones(new Shape(floats), DataType.FLOAT32);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 6; i++) {
                long t0 = System.nanoTime();
                try (NDArray sum = data.sum()) {
                    sum.getFloat();
                }
                if (i > 0) {
                    best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                }
            }
            return floats * Float.BYTES / best;
        }
    }

    /** The released layout: config.json, vision_tower/ configs, one bf16 safetensors with the tower inside. */
    static void writeCheckpoint(Path dir, Shape5 s, PrintStream out) throws IOException {
        Path tower = dir.resolve("vision_tower");
        Files.createDirectories(tower);
        int mm = s.towerWidths()[s.towerWidths().length - 1];
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlavaLlamaForCausalLM"], "model_type": "llava", "vocab_size": %d,
                 "hidden_size": %d, "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                 "num_key_value_heads": %d, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                 "hidden_act": "silu", "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2,
                 "pad_token_id": 0, "torch_dtype": "bfloat16", "mm_vision_tower": "./vision_tower",
                 "mm_hidden_size": %d, "mm_projector_type": "mlp2x_gelu", "mm_vision_select_layer": -1,
                 "mm_vision_select_feature": "patch", "mm_use_im_start_end": false, "mm_use_im_patch_token": false,
                 "image_aspect_ratio": "pad", "tokenizer_model_max_length": 2048}
                """.formatted(s.vocab(), s.hidden(), s.ffn(), s.layers(), s.heads(), s.kvHeads(), mm));
        Files.writeString(tower.resolve("config.json"), """
                {"model_type": "convnext", "num_channels": 3, "patch_size": 4, "num_stages": %d, "depths": %s,
                 "hidden_sizes": %s, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "layer_scale_init_value": 1e-6,
                 "drop_path_rate": 0.0, "image_size": %d}
                """.formatted(s.towerDepths().length, Arrays.toString(s.towerDepths()),
                Arrays.toString(s.towerWidths()), s.resolution()));
        Files.writeString(tower.resolve("preprocessor_config.json"), """
                {"crop_size": {"height": %1$d, "width": %1$d}, "do_center_crop": true, "do_normalize": true,
                 "do_resize": true, "do_rescale": true, "rescale_factor": 0.00392156862745098,
                 "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
                 "resample": 3, "size": {"shortest_edge": %1$d}}
                """.formatted(s.resolution()));
        Path tokenizerSource = ModelOptions.bundled();
        for (String f : new String[] {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"}) {
            Files.copy(tokenizerSource.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        List<SafetensorsWriter.Entry> tensors = tensorList(s);
        long total = tensors.stream().mapToLong(t -> t.bytes()).sum();
        out.printf("bench: writing %d random bf16 tensors (%.2f GB) ...%n", tensors.size(), total / 1e9);
        SafetensorsWriter.write(dir.resolve("model.safetensors.partial"), tensors, BenchCommand::fillRandom);
        Files.move(dir.resolve("model.safetensors.partial"), dir.resolve("model.safetensors"),
                StandardCopyOption.REPLACE_EXISTING);
    }

    static List<SafetensorsWriter.Entry> tensorList(Shape5 s) {
        List<SafetensorsWriter.Entry> t = new ArrayList<>();
        long h = s.hidden();
        long kv = (long) s.kvHeads() * (s.hidden() / s.heads());
        add(t, "model.embed_tokens.weight", s.vocab(), h);
        for (int i = 0; i < s.layers(); i++) {
            String p = "model.layers." + i + ".";
            add(t, p + "self_attn.q_proj.weight", h, h);
            add(t, p + "self_attn.k_proj.weight", kv, h);
            add(t, p + "self_attn.v_proj.weight", kv, h);
            add(t, p + "self_attn.o_proj.weight", h, h);
            add(t, p + "mlp.gate_proj.weight", s.ffn(), h);
            add(t, p + "mlp.up_proj.weight", s.ffn(), h);
            add(t, p + "mlp.down_proj.weight", h, s.ffn());
            add(t, p + "input_layernorm.weight", h);
            add(t, p + "post_attention_layernorm.weight", h);
        }
        add(t, "model.norm.weight", h);
        add(t, "lm_head.weight", s.vocab(), h);
        int[] w = s.towerWidths();
        add(t, "model.mm_projector.0.weight", h, w[w.length - 1]);
        add(t, "model.mm_projector.0.bias", h);
        add(t, "model.mm_projector.2.weight", h, h);
        add(t, "model.mm_projector.2.bias", h);
        String v = "model.vision_tower.vision_tower.";
        add(t, v + "embeddings.patch_embeddings.weight", w[0], 3, 4, 4);
        add(t, v + "embeddings.patch_embeddings.bias", w[0]);
        add(t, v + "embeddings.layernorm.weight", w[0]);
        add(t, v + "embeddings.layernorm.bias", w[0]);
        for (int st = 0; st < w.length; st++) {
            String p = v + "encoder.stages." + st + ".";
            if (st > 0) {
                add(t, p + "downsampling_layer.0.weight", w[st - 1]);
                add(t, p + "downsampling_layer.0.bias", w[st - 1]);
                add(t, p + "downsampling_layer.1.weight", w[st], w[st - 1], 2, 2);
                add(t, p + "downsampling_layer.1.bias", w[st]);
            }
            for (int j = 0; j < s.towerDepths()[st]; j++) {
                String q = p + "layers." + j + ".";
                add(t, q + "dwconv.weight", w[st], 1, 7, 7);
                add(t, q + "dwconv.bias", w[st]);
                add(t, q + "layernorm.weight", w[st]);
                add(t, q + "layernorm.bias", w[st]);
                add(t, q + "pwconv1.weight", 4L * w[st], w[st]);
                add(t, q + "pwconv1.bias", 4L * w[st]);
                add(t, q + "pwconv2.weight", w[st], 4L * w[st]);
                add(t, q + "pwconv2.bias", w[st]);
                add(t, q + "layer_scale_parameter", w[st]);
            }
        }
        return t;
    }

    private static void add(List<SafetensorsWriter.Entry> t, String name, long... shape) {
        t.add(new SafetensorsWriter.Entry(name, DType.BF16, shape));
    }

    /** Norm weights 1, biases 0, layer scales 0.1, matrices uniform with variance 1/fan_in; bf16 = top half of f32. */
    private static void fillRandom(SafetensorsWriter.Entry t, long offset, ByteBuffer out) {
        String name = t.name();
        boolean vector = t.shape().length == 1;
        float constant = !vector ? Float.NaN
                : name.endsWith("layer_scale_parameter") ? 0.1f
                : name.endsWith("norm.weight") || name.contains("layernorm.weight")
                  || name.endsWith("downsampling_layer.0.weight") ? 1f : 0f;
        long fanIn = 1;
        for (int i = 1; i < t.shape().length; i++) {
            fanIn *= t.shape()[i];
        }
        float scale = (float) Math.sqrt(3.0 / fanIn);
        long state = name.hashCode() * 0x9E3779B97F4A7C15L + offset + 1;
        while (out.remaining() >= 2) {
            float value = constant;
            if (Float.isNaN(constant)) {
                state ^= state << 13;
                state ^= state >>> 7;
                state ^= state << 17;
                value = scale * ((state >>> 40) / (float) (1L << 23) - 1f);
            }
            out.putShort((short) (Float.floatToRawIntBits(value) >>> 16));
        }
    }

    private static int[] ints(String csv) {
        String[] parts = csv.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i].trim());
        }
        return out;
    }
}
