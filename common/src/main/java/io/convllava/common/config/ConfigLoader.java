package io.convllava.common.config;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.nio.file.Path;

/**
 * Reads the three config files of a ConvLLaVA model. Absent fields take the defaults of the Hugging Face classes
 * ({@code LlamaConfig}, {@code ConvNextConfig}, {@code CLIPImageProcessor}) and of LLaVA's model arguments.
 */
public final class ConfigLoader {
    static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    private ConfigLoader() {
    }

    /** The LLM repo's {@code config.json}, with its {@code mm_*} fields. */
    public static LlmConfig loadLlm(Path configJson) {
        JsonFields f = JsonFields.read(configJson);
        int heads = f.intOr("num_attention_heads", 32);
        int hidden = f.intOr("hidden_size", 4096);
        int kvHeads = f.intOr("num_key_value_heads", heads);
        int maxPositions = f.intOr("max_position_embeddings", 2048);
        requirePositive(f, "hidden_size", hidden);
        requirePositive(f, "num_attention_heads", heads);
        requirePositive(f, "num_key_value_heads", kvHeads);
        if (hidden % heads != 0) {
            throw f.error("hidden_size", hidden + " is not divisible by num_attention_heads " + heads);
        }
        if (heads % kvHeads != 0) {
            throw f.error("num_key_value_heads", kvHeads + " does not divide num_attention_heads " + heads);
        }
        String tower = f.stringOr("mm_vision_tower", null);
        int mmHidden = tower == null ? f.intOr("mm_hidden_size", 0) : f.requireInt("mm_hidden_size");
        return new LlmConfig(
                requirePositive(f, "vocab_size", f.intOr("vocab_size", 32000)),
                hidden,
                requirePositive(f, "intermediate_size", f.intOr("intermediate_size", 11008)),
                requirePositive(f, "num_hidden_layers", f.intOr("num_hidden_layers", 32)),
                heads,
                kvHeads,
                maxPositions,
                f.doubleOr("rms_norm_eps", 1e-6),
                ropeTheta(f),
                f.boolOr("tie_word_embeddings", false),
                firstTokenId(f, "bos_token_id", 1),
                firstTokenId(f, "eos_token_id", 2),
                firstTokenId(f, "pad_token_id", -1),
                f.has("torch_dtype") ? f.stringOr("torch_dtype", null) : f.stringOr("dtype", "float32"),
                tower,
                mmHidden,
                f.stringOr("mm_projector_type", "linear"),
                f.intOr("mm_vision_select_layer", -1),
                f.stringOr("image_aspect_ratio", "square"),
                f.boolOr("mm_use_im_start_end", false),
                f.intOr("tokenizer_model_max_length", maxPositions));
    }

    /** {@code rope_theta}, or transformers 5's {@code rope_parameters.rope_theta}; only plain RoPE is supported. */
    private static double ropeTheta(JsonFields f) {
        for (String field : new String[] {"rope_scaling", "rope_parameters"}) {
            JsonElement e = f.get(field);
            if (e != null && e.isJsonObject()) {
                JsonObject o = e.getAsJsonObject();
                String typeField = o.has("rope_type") ? "rope_type" : "type";
                JsonElement type = o.get(typeField);
                if (type != null && !type.isJsonNull()) {
                    String name = f.asString(field + "." + typeField, type);
                    if (!name.equals("default")) {
                        throw f.error(field, "asks for RoPE scaling '" + name + "', which is not supported");
                    }
                }
            }
        }
        if (f.has("rope_theta")) {
            return f.doubleOr("rope_theta", 10000.0);
        }
        JsonElement params = f.get("rope_parameters");
        if (params != null && params.isJsonObject() && params.getAsJsonObject().has("rope_theta")) {
            return f.asDouble("rope_parameters.rope_theta", params.getAsJsonObject().get("rope_theta"));
        }
        return 10000.0;
    }

    /** Token ids may be a list (several EOS ids); the first one is used. */
    private static int firstTokenId(JsonFields f, String field, int fallback) {
        JsonElement e = f.get(field);
        if (e == null) {
            return fallback;
        }
        if (e.isJsonArray()) {
            if (e.getAsJsonArray().isEmpty()) {
                return fallback;
            }
            return f.asInt(field, e.getAsJsonArray().get(0));
        }
        return f.asInt(field, e);
    }

    /** The ConvNeXt tower's {@code config.json}: as many stages as {@code depths}/{@code hidden_sizes} entries. */
    public static VisionConfig loadVision(Path configJson) {
        JsonFields f = JsonFields.read(configJson);
        String modelType = f.stringOr("model_type", "convnext");
        if (!modelType.equals("convnext")) {
            throw f.error("model_type", "is '" + modelType + "', but only a ConvNeXt tower ('convnext') is supported");
        }
        int[] depths = f.intArrayOr("depths", new int[] {3, 3, 9, 3});
        int[] hiddenSizes = f.intArrayOr("hidden_sizes", new int[] {96, 192, 384, 768});
        if (depths.length == 0 || depths.length != hiddenSizes.length) {
            throw f.error("depths", "has " + depths.length + " stages but hidden_sizes has " + hiddenSizes.length);
        }
        if (f.has("num_stages") && f.requireInt("num_stages") != depths.length) {
            throw f.error("num_stages", "is " + f.requireInt("num_stages") + " but depths has " + depths.length
                    + " entries");
        }
        for (int i = 0; i < depths.length; i++) {
            requirePositive(f, "depths", depths[i]);
            requirePositive(f, "hidden_sizes", hiddenSizes[i]);
        }
        return new VisionConfig(
                requirePositive(f, "num_channels", f.intOr("num_channels", 3)),
                requirePositive(f, "patch_size", f.intOr("patch_size", 4)),
                depths,
                hiddenSizes,
                f.stringOr("hidden_act", "gelu"),
                f.intOr("image_size", 224));
    }

    /**
     * The CLIP image processor's {@code preprocessor_config.json}. {@code size} may be an int,
     * {@code {shortest_edge}} or a square {@code {height, width}}; {@code crop_size} an int or {@code {height, width}}.
     */
    public static PreprocessorConfig loadPreprocessor(Path configJson) {
        JsonFields f = JsonFields.read(configJson);
        int shortestEdge = shortestEdge(f);
        int[] crop = cropSize(f);
        float[] mean = f.floatArrayOr("image_mean", CLIP_MEAN);
        float[] std = f.floatArrayOr("image_std", CLIP_STD);
        if (mean.length != 3) {
            throw f.error("image_mean", "must have 3 entries, found " + mean.length);
        }
        if (std.length != 3) {
            throw f.error("image_std", "must have 3 entries, found " + std.length);
        }
        return new PreprocessorConfig(shortestEdge, crop[0], crop[1], f.intOr("resample", 3),
                f.doubleOr("rescale_factor", 1.0 / 255), mean, std,
                f.boolOr("do_resize", true), f.boolOr("do_center_crop", true), f.boolOr("do_rescale", true),
                f.boolOr("do_normalize", true), f.boolOr("do_convert_rgb", true));
    }

    private static int shortestEdge(JsonFields f) {
        JsonElement size = f.get("size");
        if (size == null) {
            return 224;
        }
        if (size.isJsonPrimitive()) {
            return requirePositive(f, "size", f.asInt("size", size));
        }
        if (!size.isJsonObject()) {
            throw f.error("size", "must be an int, {shortest_edge} or {height, width}, found " + size);
        }
        JsonObject o = size.getAsJsonObject();
        if (o.has("shortest_edge")) {
            return requirePositive(f, "size.shortest_edge", f.asInt("size.shortest_edge", o.get("shortest_edge")));
        }
        if (o.has("height") && o.has("width")) {
            int h = f.asInt("size.height", o.get("height"));
            int w = f.asInt("size.width", o.get("width"));
            if (h != w) {
                throw f.error("size", "is " + h + "x" + w + "; only a square size or shortest_edge is supported");
            }
            return requirePositive(f, "size", h);
        }
        throw f.error("size", "must be an int, {shortest_edge} or {height, width}, found " + size);
    }

    /** [height, width]. */
    private static int[] cropSize(JsonFields f) {
        JsonElement crop = f.get("crop_size");
        if (crop == null) {
            return new int[] {224, 224};
        }
        if (crop.isJsonPrimitive()) {
            int c = requirePositive(f, "crop_size", f.asInt("crop_size", crop));
            return new int[] {c, c};
        }
        if (crop.isJsonObject()) {
            JsonObject o = crop.getAsJsonObject();
            if (o.has("height") && o.has("width")) {
                return new int[] {
                        requirePositive(f, "crop_size.height", f.asInt("crop_size.height", o.get("height"))),
                        requirePositive(f, "crop_size.width", f.asInt("crop_size.width", o.get("width")))};
            }
            if (o.has("shortest_edge")) {
                int c = requirePositive(f, "crop_size.shortest_edge",
                        f.asInt("crop_size.shortest_edge", o.get("shortest_edge")));
                return new int[] {c, c};
            }
        }
        throw f.error("crop_size", "must be an int or {height, width}, found " + crop);
    }

    private static int requirePositive(JsonFields f, String field, int value) {
        if (value <= 0) {
            throw f.error(field, "must be positive, found " + value);
        }
        return value;
    }
}
