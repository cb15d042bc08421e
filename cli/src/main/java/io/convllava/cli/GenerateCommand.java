package io.convllava.cli;

import com.google.gson.GsonBuilder;
import io.convllava.common.io.Npy;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.transport.MessageLimits;
import io.convllava.common.tensor.HostTensor;
import io.convllava.coordinator.generate.EncodedImage;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.GenerationResult;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.generate.TokenListener;
import io.convllava.coordinator.grounding.BoundingBox;
import io.convllava.cli.local.LocalEngine;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code convllava generate}: one answer in this process (no cluster), streamed to stdout or printed as JSON.
 * With {@code --target host:port} the same request goes to a running cluster instead.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Answer one prompt: in this process (--model) or through a cluster (--target).",
                "With an image, <image>\\n goes before the prompt unless the prompt contains <image>."})
final class GenerateCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Option(names = "--target", paramLabel = "HOST:PORT[,HOST:PORT...]", description = "A cluster's coordinator, or"
            + " several: when one dies or is full, the request goes to the next and the answer goes on where it was;"
            + " without it the model is loaded in this process.")
    String target;

    @Option(names = "--tls-ca", paramLabel = "PEM", description = "With --target: the coordinator uses TLS; verify"
            + " its certificate against this authority.")
    Path tlsCa;

    @Option(names = "--token-file", paramLabel = "FILE", description = "With --target: send the first token of this"
            + " file as 'authorization: Bearer <token>'.")
    Path tokenFile;

    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOption device;

    @Option(names = "--image", paramLabel = "FILE", description = "Image file (PNG, JPEG, BMP, GIF).")
    Path image;

    @Option(names = "--pixels-npy", paramLabel = "FILE",
            description = "Preprocessed pixels [1,3,R,R] float32 instead of an image (in process only).")
    Path pixelsNpy;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The question.")
    String prompt;

    @Option(names = "--template", defaultValue = "vicuna_v1", paramLabel = "vicuna_v1|llava_v1",
            completionCandidates = TemplateNames.class,
            description = "Conversation template (default: ${DEFAULT-VALUE}).")
    String template;

    @Option(names = "--max-new-tokens", defaultValue = "0", paramLabel = "N",
            description = "Most tokens to generate; 0 = the default, 512 or the model's context if shorter"
                    + " (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T",
            description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P",
            description = "Nucleus sampling, in (0, 1] (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K",
            description = "Sample among the K most likely tokens, 0 = all (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--request-id", paramLabel = "ID", description = "With --target: the id the cluster's nodes name"
            + " this request by in their logs (default: the coordinator makes one).")
    String requestId;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Sampling seed (default:"
            + " ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop", paramLabel = "S1|S2", description = "Stop strings, separated by |.")
    String stop;

    @Option(names = "--json", description = "Print one JSON object (input_ids, tokens, text, finish_reason, usage,"
            + " timings_ms, boxes) instead of streaming text.")
    boolean json;

    @Option(names = "--dump-dir", paramLabel = "DIR", description = "Write pixels.npy, vision_features.npy,"
            + " image_embeddings.npy and prefill_logits.npy there (in process only).")
    Path dumpDir;

    @Option(names = "--timeout-s", defaultValue = "600", paramLabel = "SECONDS",
            description = "Deadline of a --target request (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Spec
    CommandSpec spec;

    /** The request described by the flags, checked the same way for both paths. */
    GenerationRequest request() throws IOException {
        if (maxNewTokens < 0) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--max-new-tokens': must be"
                    + " >= 1, or 0 for the default; got " + maxNewTokens);
        }
        if (prompt.isBlank()) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--prompt': it is blank; ask"
                    + " a question (e.g. --prompt \"What is in the image?\")");
        }
        List<ImageInput> images = new ArrayList<>();
        if (pixelsNpy != null) {
            images.add(ImageInput.ofPixels(Npy.read(existing(pixelsNpy, "--pixels-npy"))));
        } else if (image != null) {
            Path file = existing(image, "--image");
            try {
                MessageLimits.checkImage("--image " + file, Files.size(file));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "Invalid value for option '--image': "
                        + e.getMessage());
            }
            images.add(ImageInput.ofBytes(Files.readAllBytes(file)));
        }
        ConversationTemplate chosen;
        try {
            chosen = ConversationTemplate.byName(template);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--template': " + e.getMessage());
        }
        SamplingParams sampling = new SamplingParams(temperature, topP, topK, seed);
        List<String> stops = stop != null ? List.of(stop.split("\\|")) : List.of();
        return new GenerationRequest(List.of(ChatMessage.user(prompt, images.size())), images, chosen, sampling,
                maxNewTokens, stops, dumpDir != null, dumpDir != null);
    }

    private static Path existing(Path file, String flag) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException(flag + " " + file + ": no such file");
        }
        return file;
    }

    @Override
    public Integer call() throws IOException {
        PrintStream out = main.out();
        if (target != null) {
            return new RemoteGenerate(this).run(out);
        }
        GenerationRequest request = request();
        ModelFiles files = model.files();
        try (LocalEngine engine = LocalEngine.load(files, device.device, null, spec.commandLine().getErr()::println)) {
            TokenListener stream = json ? TokenListener.NONE : (id, delta) -> {
                out.print(delta);
                out.flush();
            };
            print(engine.generator().generate(request, stream), out);
        }
        return 0;
    }

    /** What follows the streamed text: the dump, then the JSON (with --json) or the boxes. */
    void print(GenerationResult result, PrintStream out) throws IOException {
        if (dumpDir != null) {
            dump(dumpDir, result);
        }
        if (json) {
            out.println(toJson(result));
        } else {
            out.println();
            for (BoundingBox b : result.boxes()) {
                out.printf("box: [%.1f, %.1f, %.1f, %.1f] px%n", b.x1(), b.y1(), b.x2(), b.y2());
            }
        }
    }

    static String toJson(GenerationResult r) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("input_ids", r.inputIds());
        json.put("tokens", r.tokens());
        json.put("text", r.text());
        json.put("finish_reason", r.finishReason().name().toLowerCase());
        List<Map<String, Object>> boxes = new ArrayList<>();
        for (BoundingBox b : r.boxes()) {
            Map<String, Object> box = new LinkedHashMap<>();
            box.put("image", b.imageIndex());
            box.put("normalized", b.normalized());
            box.put("pixels", new double[] {b.x1(), b.y1(), b.x2(), b.y2()});
            boxes.add(box);
        }
        if (!boxes.isEmpty()) {
            json.put("boxes", boxes);
        }
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("prompt_tokens", r.promptTokens());
        usage.put("image_tokens", r.imageTokens());
        usage.put("completion_tokens", r.tokens().length);
        json.put("usage", usage);
        Map<String, Object> timings = new LinkedHashMap<>();
        timings.put("encode", r.timings().encodeMs());
        timings.put("image", r.timings().imageMs());
        timings.put("prefill", r.timings().prefillMs());
        timings.put("first_token", r.timings().firstTokenMs());
        timings.put("total", r.timings().totalMs());
        json.put("timings_ms", timings);
        return new GsonBuilder().disableHtmlEscaping().create().toJson(json);
    }

    /** pixels.npy [1,3,R,R], vision_features.npy [1,N,C], image_embeddings.npy [1,N,H], prefill_logits.npy [V]. */
    static void dump(Path dir, GenerationResult r) throws IOException {
        Files.createDirectories(dir);
        if (!r.images().isEmpty()) {
            EncodedImage image = r.images().get(0);
            Npy.write(dir.resolve("pixels.npy"), batchOfOne(image.pixels()));
            Npy.write(dir.resolve("vision_features.npy"), batchOfOne(image.features()));
            Npy.write(dir.resolve("image_embeddings.npy"), batchOfOne(image.embeddings()));
        }
        if (r.prefillLogits() != null) {
            Npy.write(dir.resolve("prefill_logits.npy"), HostTensor.of(r.prefillLogits(), r.prefillLogits().length));
        }
    }

    private static HostTensor batchOfOne(HostTensor t) {
        long[] shape = new long[t.rank() + 1];
        shape[0] = 1;
        System.arraycopy(t.shape(), 0, shape, 1, t.rank());
        return new HostTensor(shape, t.data());
    }
}
