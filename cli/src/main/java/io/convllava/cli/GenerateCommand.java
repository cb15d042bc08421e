package io.convllava.cli;

import com.google.gson.GsonBuilder;
import io.convllava.common.io.Npy;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.sampling.SamplingParams;
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

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code convllava generate}: one answer in this process (no cluster), streamed to stdout or printed as JSON.
 * With {@code --target host:port} the same request goes to a running cluster instead.
 */
public final class GenerateCommand {
    private GenerateCommand() {
    }

    /** The request described by the shared generate flags. */
    static GenerationRequest request(Options o) throws IOException {
        List<ImageInput> images = new ArrayList<>();
        if (o.has("pixels-npy")) {
            images.add(ImageInput.ofPixels(Npy.read(Path.of(o.get("pixels-npy")))));
        } else if (o.has("image")) {
            Path image = Path.of(o.get("image"));
            if (!Files.isRegularFile(image)) {
                throw new Options.UsageException("--image " + image + ": no such file");
            }
            images.add(ImageInput.ofBytes(Files.readAllBytes(image)));
        }
        String prompt = o.require("prompt");
        ChatMessage user = ChatMessage.user(prompt, images.size());
        SamplingParams sampling = new SamplingParams(o.getFloat("temperature", 0f), o.getFloat("top-p", 1f),
                o.getInt("top-k", 0), o.getLong("seed", 0L));
        List<String> stops = o.has("stop") ? List.of(o.get("stop").split("\\|")) : List.of();
        return new GenerationRequest(List.of(user), images, ConversationTemplate.byName(o.get("template", "vicuna_v1")),
                sampling, o.getInt("max-new-tokens", 512), stops, o.has("dump-dir"), o.has("dump-dir"));
    }

    static int run(Options o, PrintStream out) throws IOException {
        if (o.has("target")) {
            return RemoteGenerateCommand.run(o, out);
        }
        GenerationRequest request = request(o);
        ModelFiles files = NodeFlags.modelFiles(o);
        boolean json = o.flag("json");
        try (LocalEngine engine = LocalEngine.load(files, o.get("device", "cpu"), null)) {
            TokenListener stream = json ? TokenListener.NONE : (id, delta) -> {
                out.print(delta);
                out.flush();
            };
            print(o, engine.generator().generate(request, stream), out);
        }
        return 0;
    }

    /** What follows the streamed text: the dump, then the JSON (with --json) or the boxes. */
    static void print(Options o, GenerationResult result, PrintStream out) throws IOException {
        if (o.has("dump-dir")) {
            dump(Path.of(o.get("dump-dir")), result);
        }
        if (o.flag("json")) {
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
